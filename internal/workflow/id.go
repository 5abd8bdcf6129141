package workflow

// ValidID reports whether a workflow id is safe as a name everywhere it is
// used: file names in build output, URLs of the management API, slash
// commands. 1 to 128 letters, digits, '_', '-' or '.', starting with a
// letter or digit.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '_' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}
