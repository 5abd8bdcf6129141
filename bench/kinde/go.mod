module flowgate.bench/kinde

go 1.22.6

require github.com/kinde-oss/workflows-runtime v0.0.0

// bench/compare.sh replaces this with a checkout: the runtime is not on the
// Go module proxy.
replace github.com/kinde-oss/workflows-runtime => ./workflows-runtime
