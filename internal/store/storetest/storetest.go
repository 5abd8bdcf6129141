// Package storetest gives tests a fresh database of each kind the store
// supports, so one suite runs against SQLite and PostgreSQL.
//
// PostgreSQL comes from FLOWGATE_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable, an admin
// connection); each call creates a database flowgate_test_<random> and drops
// it when the test ends. When PostgreSQL is unreachable the PostgreSQL case
// is skipped locally and fails under FLOWGATE_REQUIRE_DEPS=1, as CI sets it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresURL is the admin connection used when
// FLOWGATE_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Backend is one kind of database a test runs against.
type Backend struct {
	Name string // "sqlite" or "postgres"
	// NewURL returns the spec of a fresh, empty database for store.Open,
	// removed when the test ends. Calling it twice gives two databases;
	// open the same URL twice for two "replicas" of one database.
	NewURL func(t testing.TB) string
}

// Backends lists SQLite and PostgreSQL.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", NewURL: SQLiteURL},
		{Name: "postgres", NewURL: PostgresURL},
	}
}

// Run runs fn as a subtest per backend.
func Run(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// SQLiteURL is a fresh SQLite file in the test's temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "flowgate.db")
}

// PostgresURL creates a fresh PostgreSQL database and returns its URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("FLOWGATE_TEST_POSTGRES_URL")
	if admin == "" {
		admin = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		missing(t, "PostgreSQL", "start it on 127.0.0.1:5432 (trust auth) or set FLOWGATE_TEST_POSTGRES_URL ("+err.Error()+")")
	}
	defer conn.Close(context.Background())
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "flowgate_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("FLOWGATE_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func missing(t testing.TB, what, how string) {
	t.Helper()
	if os.Getenv("FLOWGATE_REQUIRE_DEPS") == "1" {
		t.Fatalf("%s is missing (FLOWGATE_REQUIRE_DEPS=1): %s", what, how)
	}
	t.Skipf("skipping: %s is missing; %s", what, how)
}
