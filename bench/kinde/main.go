// Command kinde drives Kinde's own workflow runtime
// (github.com/kinde-oss/workflows-runtime: a fresh goja VM per call, the
// compiled program cached by its hash) on a bundle `flowgate build` wrote,
// as Kinde's service would: the bindings the benchmark workflow asks for
// (console, kinde.accessToken) registered as native APIs, the event parsed
// and passed to the default export. It prints the JSON fields
// bench/node-vm.mjs prints, so bench/median.mjs reads both.
//
//	go run . BUNDLE.js EVENT.json [--n N] [--warmup W] [--context call|background]
//
// It is its own module (go.mod) because the runtime is not on the Go module
// proxy: bench/compare.sh points a replace directive at a checkout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"syscall"
	"time"

	kinde "github.com/kinde-oss/workflows-runtime"
	gojaRuntime "github.com/kinde-oss/workflows-runtime/gojaRuntime"
	registry "github.com/kinde-oss/workflows-runtime/registry"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kinde bench:", err)
		os.Exit(1)
	}
}

// registerToken mounts kinde.accessToken with the two functions the
// infrastructure library's accessTokenCustomClaims calls; claims live in the
// run's context, as in Kinde's service.
func registerToken() {
	tok := gojaRuntime.RegisterNativeAPI("kinde").RegisterNativeAPI("accessToken")
	claims := func(c gojaRuntime.JsContext) map[string]any {
		m, _ := c.GetValue("accessTokenClaims").(map[string]any)
		if m == nil {
			m = map[string]any{}
			c.SetValue("accessTokenClaims", m)
		}
		return m
	}
	tok.RegisterNativeFunction("setCustomClaim", func(_ context.Context, _ registry.BindingSettings, c gojaRuntime.JsContext, args ...any) (any, error) {
		if len(args) != 2 {
			return nil, errors.New("setCustomClaim needs a name and a value")
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, errors.New("a claim name is a string")
		}
		claims(c)[name] = args[1]
		return nil, nil
	})
	tok.RegisterNativeFunction("getCustomClaims", func(_ context.Context, _ registry.BindingSettings, c gojaRuntime.JsContext, _ ...any) (any, error) {
		return maps(claims(c)), nil
	})
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func run() error {
	n := flag.Int("n", 2000, "measured invocations")
	warmup := flag.Int("warmup", 200, "warm-up invocations")
	ctxMode := flag.String("context", "call", "call: a context per call, cancelled when it returns; background: context.Background() for every call, as the runtime's own tests pass (its time-limit goroutine and the VM then live until the limit)")
	flag.Parse()
	if *ctxMode != "call" && *ctxMode != "background" {
		return errors.New("--context is call or background")
	}
	if flag.NArg() != 2 {
		return errors.New("usage: kinde BUNDLE.js EVENT.json [--n N] [--warmup W]")
	}
	code, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		return err
	}
	eventText, err := os.ReadFile(flag.Arg(1))
	if err != nil {
		return err
	}
	registerToken()
	runner, err := kinde.GetRuntime("goja")
	if err != nil {
		return err
	}
	wf := registry.WorkflowDescriptor{
		ProcessedSource: registry.SourceDescriptor{Source: code, SourceType: registry.Source_ContentType_Text},
		RequestedBindings: map[string]registry.BindingSettings{
			"console":           {},
			"kinde.accessToken": {},
		},
		Limits: registry.RuntimeLimits{MaxExecutionDuration: 30 * time.Second},
	}
	invoke := func() (map[string]any, error) {
		var event map[string]any
		if err := json.Unmarshal(eventText, &event); err != nil {
			return nil, err
		}
		// A context per call ended when the call returns, as a request's
		// is: the runtime's time-limit goroutine waits on it.
		ctx := context.Background()
		if *ctxMode == "call" {
			c, cancel := context.WithCancel(ctx)
			defer cancel()
			ctx = c
		}
		res, err := runner.Execute(ctx, wf, registry.StartOptions{EntryPoint: "handle", Arguments: []any{event}})
		if err != nil {
			return nil, err
		}
		claims, _ := res.GetContext().GetValueAsMap("accessTokenClaims")
		return claims, nil
	}
	claims, err := invoke()
	if err != nil {
		return err
	}
	if len(claims) == 0 {
		return errors.New("the workflow set no claims: is this the benchmark bundle?")
	}
	for range *warmup {
		if _, err := invoke(); err != nil {
			return err
		}
	}
	lat := make([]float64, 0, *n)
	cpu0 := cpuTime()
	start := time.Now()
	for range *n {
		t0 := time.Now()
		if _, err := invoke(); err != nil {
			return err
		}
		lat = append(lat, float64(time.Since(t0).Nanoseconds())/1e3)
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	slices.Sort(lat)
	pct := func(q float64) float64 {
		i := min(max(int(math.Round(float64(*n)*q))-1, 0), *n-1)
		return lat[i]
	}
	var sum float64
	for _, v := range lat {
		sum += v
	}
	r2 := func(x float64) float64 { return math.Round(x*100) / 100 }
	out, _ := json.MarshalIndent(map[string]any{
		"mode":                "kinde-workflows-runtime-fresh-vm",
		"context":             *ctxMode,
		"n":                   *n,
		"concurrency":         1,
		"meanUs":              r2(sum / float64(*n)),
		"p50Us":               r2(pct(0.5)),
		"p99Us":               r2(pct(0.99)),
		"throughputPerSec":    r2(float64(*n) / wall.Seconds()),
		"cpuUsPerInvocation":  r2(float64(cpu.Microseconds()) / float64(*n)),
		"allocsPerInvocation": nil,
	}, "", "  ")
	fmt.Println(string(out))
	return nil
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
