package recording

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Actions a PII rule takes on one kind of personal data.
const (
	Keep      = "keep"       // stored as it came
	Drop      = "drop"       // the field is left out
	Hash      = "hash"       // replaced by a keyed hash
	HashLocal = "hash-local" // emails only: the local part hashed, the domain kept
)

// PIIRule says what happens to personal data before a recording is stored.
// Hashes are keyed per environment: stable across that environment's
// recordings (a replay sees the same user as the same value) and useless
// anywhere else.
type PIIRule struct {
	// Emails: any string that is or contains an email address
	// (default hash-local, so rules on the domain still replay).
	Emails string `json:"emails"`
	// IPs: any string that is an IP address (default hash: a stable
	// address in a reserved range, so code that parses it still works).
	IPs string `json:"ips"`
	// Phones: fields named phone, phoneNumber, mobile… (default hash).
	Phones string `json:"phones"`
	// Names: fields named givenName, familyName, firstName, lastName,
	// fullName, middleName, nickname… (default drop).
	Names string `json:"names"`
	// Usernames: fields named username, suppliedUsername… (default hash).
	Usernames string `json:"usernames"`
	// DropFields are more field names dropped wherever they appear
	// (compared ignoring case, '_' and '-').
	DropFields []string `json:"dropFields,omitempty"`
}

// Defaults fills unset actions with the documented defaults.
func (p PIIRule) Defaults() PIIRule {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&p.Emails, HashLocal)
	def(&p.IPs, Hash)
	def(&p.Phones, Hash)
	def(&p.Names, Drop)
	def(&p.Usernames, Hash)
	return p
}

// Validate reports an action a kind does not take, or a bad field name.
func (p PIIRule) Validate() error {
	for _, c := range []struct {
		kind, v string
		ok      []string
	}{
		{"emails", p.Emails, []string{Keep, Drop, Hash, HashLocal}},
		{"ips", p.IPs, []string{Keep, Drop, Hash}},
		{"phones", p.Phones, []string{Keep, Drop, Hash}},
		{"names", p.Names, []string{Keep, Drop, Hash}},
		{"usernames", p.Usernames, []string{Keep, Drop, Hash}},
	} {
		if !contains(c.ok, c.v) {
			return fmt.Errorf("pii.%s must be one of %s, not %q", c.kind, strings.Join(c.ok, ", "), trunc(c.v, 40))
		}
	}
	if len(p.DropFields) > MaxDropFields {
		return fmt.Errorf("pii.dropFields holds at most %d names", MaxDropFields)
	}
	for _, f := range p.DropFields {
		if f == "" || len(f) > 128 {
			return fmt.Errorf("pii.dropFields: names are 1-128 characters")
		}
	}
	return nil
}

func contains(set []string, v string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// fieldKey is a field name as the rule compares it: lower case, without
// '_' and '-' (given_name, givenName and Given-Name are one field).
func fieldKey(k string) string {
	k = strings.ToLower(k)
	if !strings.ContainsAny(k, "_-") {
		return k
	}
	return strings.NewReplacer("_", "", "-", "").Replace(k)
}

var (
	nameFields = set("givenname", "familyname", "firstname", "lastname", "fullname", "middlename", "nickname",
		"displayname", "surname", "preferredname")
	phoneFields    = set("phone", "phonenumber", "mobile", "mobilenumber", "mobilephone", "telephone", "tel", "msisdn")
	usernameFields = set("username", "suppliedusername", "login", "preferredusername")
)

// isPasswordField reports whether a field holds a password: the runtime's
// password fields (workflow.PasswordFields) and anything else named like
// one, at any depth.
func isPasswordField(k string) bool {
	k = fieldKey(k)
	return strings.Contains(k, "password") || strings.Contains(k, "passwd") || k == "pwd" ||
		k == "passcode" || k == "pin" || strings.Contains(k, "secret")
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// emailRE finds email addresses inside text (local@domain.tld).
var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)+`)

// hasher makes the keyed hashes of one environment.
type hasher struct{ key []byte }

func (h hasher) sum(kind, v string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)
}

// token is a short printable hash of v (kind separates the hash spaces).
func (h hasher) token(kind, v string) string { return "h" + hex.EncodeToString(h.sum(kind, v)[:8]) }

// email is an address under the rule: the local part hashed (domain kept)
// or the whole address hashed into the reserved example.invalid domain.
func (h hasher) email(action, addr string) string {
	local, domain, _ := strings.Cut(addr, "@")
	switch action {
	case HashLocal:
		return h.token("email-local", strings.ToLower(local)) + "@" + strings.ToLower(domain)
	case Hash:
		return h.token("email", strings.ToLower(addr)) + "@example.invalid"
	}
	return addr
}

// ip maps an address to a stable one in a reserved range: IPv4 into
// 240.0.0.0/4, IPv6 into fd00::/8, so code that parses it still works.
func (h hasher) ip(a netip.Addr) string {
	s := h.sum("ip", a.Unmap().String())
	if a.Unmap().Is4() {
		v := binary.BigEndian.Uint32(s[:4])&0x0fffffff | 0xf0000000
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], v)
		return netip.AddrFrom4(b).String()
	}
	var b [16]byte
	copy(b[:], s[:16])
	b[0] = 0xfd
	return netip.AddrFrom16(b).String()
}

// phone is a stable number in the unassigned +999 country code.
func (h hasher) phone(v string) string {
	s := h.sum("phone", digits(v))
	return fmt.Sprintf("+999%09d", binary.BigEndian.Uint64(s[:8])%1_000_000_000)
}

func digits(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
