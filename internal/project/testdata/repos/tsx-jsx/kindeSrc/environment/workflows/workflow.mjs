syntax error (
