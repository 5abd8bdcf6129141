package secrets

import "testing"

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:443":            "192.0.2.1",
		"[::ffff:192.0.2.1]:443":   "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:1": "2001:db8:1:2::/64",
		"[2001:db8:1:2::ffff]:9":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:9":      "2001:db8:1:3::/64",
		"not an address":           "not an address",
		"@":                        "@",
	} {
		if got := AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
