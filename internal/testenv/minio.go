package testenv

import (
	"os"
	"testing"
)

// MinIOServer is a running MinIO server for tests, started by .ci/minio.sh.
type MinIOServer struct {
	Endpoint  string // e.g. http://127.0.0.1:9123
	AccessKey string
	SecretKey string
}

// MinIO returns the MinIO server named by FLOWGATE_TEST_MINIO (its URL),
// FLOWGATE_TEST_MINIO_ACCESS_KEY and FLOWGATE_TEST_MINIO_SECRET_KEY, as
// printed by `.ci/minio.sh start`. Without them the test skips locally and
// fails under FLOWGATE_REQUIRE_DEPS=1.
func MinIO(t testing.TB) MinIOServer {
	t.Helper()
	s := MinIOServer{
		Endpoint:  os.Getenv("FLOWGATE_TEST_MINIO"),
		AccessKey: os.Getenv("FLOWGATE_TEST_MINIO_ACCESS_KEY"),
		SecretKey: os.Getenv("FLOWGATE_TEST_MINIO_SECRET_KEY"),
	}
	if s.Endpoint == "" || s.AccessKey == "" || s.SecretKey == "" {
		missing(t, "MinIO server (FLOWGATE_TEST_MINIO and its _ACCESS_KEY/_SECRET_KEY)",
			"run `eval \"$(.ci/minio.sh start)\"` (what .ci/run does) and stop it with `.ci/minio.sh stop`")
	}
	return s
}
