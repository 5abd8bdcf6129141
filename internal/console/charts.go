package console

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/flowgate/flowgate/internal/store"
)

// Charts are drawn on the server as SVG from the runtime log's outcome rows
// (one per invocation: workflow, status, duration, error kind in its
// message), counted in the database by time bucket, workflow, status and
// duration class; p50/p99 are read from those duration histograms. A
// page's numbers are kept for chartTTL and refreshed in the background, so
// a charts page is served from memory while the next one is counted.

const chartTTL = 15 * time.Second

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 720.0, 180.0
	padL, padB     = 52.0, 22.0
	padT, padR     = 10.0, 10.0
)

type chartRange struct {
	Span, Bucket time.Duration
	Label        string
}

var chartRanges = map[string]chartRange{
	"1h":  {time.Hour, 5 * time.Minute, "last hour, 5-minute buckets"},
	"24h": {24 * time.Hour, time.Hour, "last 24 hours, hourly buckets"},
	"7d":  {7 * 24 * time.Hour, 6 * time.Hour, "last 7 days, 6-hour buckets"},
}

// bucketStat is one time bucket of one chart.
type bucketStat struct {
	Start    time.Time
	OK, Fail int
	P50, P99 float64 // milliseconds
	hist     []int   // invocations per store.DurationClasses class
}

// svgBar is a rectangle with its accessible title.
type svgBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type svgTick struct {
	X, Y  float64
	Label string
}

type svgLine struct {
	Class  string
	Points string
	Dots   []svgTick // a marker per point: a lone point draws no line
	Label  string
}

// svgChart is everything the chart template draws.
type svgChart struct {
	Title   string
	Desc    string
	W, H    float64
	Bars    []svgBar
	Lines   []svgLine
	XTicks  []svgTick
	YTicks  []svgTick
	Legend  []svgLine
	Rows    [][]string // the same numbers as a table, for people who cannot see the chart
	Headers []string
	Empty   bool
}

func (c *Console) charts(w http.ResponseWriter, r *http.Request, s *session) {
	env := r.PathValue("env")
	rk := r.URL.Query().Get("range")
	if _, ok := chartRanges[rk]; !ok {
		rk = "24h"
	}
	data, err := c.chartCache.get(r.Context(), env+"\x00"+rk, c.now(), func(ctx context.Context) (map[string]any, error) {
		return c.chartData(ctx, env, rk)
	})
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, http.StatusOK, "charts", s, data)
}

// chartData computes a charts page from the runtime log's outcome rows,
// aggregated in the database.
func (c *Console) chartData(ctx context.Context, env, rk string) (map[string]any, error) {
	rg := chartRanges[rk]
	now := c.now().UTC()
	end := now.Truncate(rg.Bucket).Add(rg.Bucket)
	start := end.Add(-rg.Span)
	stats, err := c.deploy.OutcomeStats(ctx, env, start, rg.Bucket)
	if err != nil {
		return nil, err
	}
	kinds, err := c.deploy.FailureKinds(ctx, env, start, errorKinds)
	if err != nil {
		return nil, err
	}
	n := int(rg.Span / rg.Bucket)
	all := newBuckets(start, rg, n)
	perWF := map[string][]bucketStat{}
	total := 0
	for _, o := range stats {
		if o.Bucket < 0 || o.Bucket >= n || o.Class < 0 || o.Class > len(store.DurationClasses) {
			continue
		}
		failed := o.Status != "succeeded"
		count(&all[o.Bucket], failed, o.Class, o.Count)
		b, ok := perWF[o.WorkflowID]
		if !ok {
			b = newBuckets(start, rg, n)
			perWF[o.WorkflowID] = b
		}
		count(&b[o.Bucket], failed, o.Class, o.Count)
		total += o.Count
	}
	var latency []svgChart
	ids := make([]string, 0, len(perWF))
	for id := range perWF {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		latency = append(latency, latencyChart(id, perWF[id], rg))
	}
	return map[string]any{"Title": "Charts · " + env, "Tab": "charts",
		"Range": rk, "RangeLabel": rg.Label, "Ranges": []string{"1h", "24h", "7d"}, "AsOf": now,
		"Invocations": invocationsChart(all, rg), "Kinds": kindsChart(kinds), "Latency": latency, "Total": total}, nil
}

func newBuckets(start time.Time, rg chartRange, n int) []bucketStat {
	b := make([]bucketStat, n)
	for i := range b {
		b[i].Start = start.Add(time.Duration(i) * rg.Bucket)
		b[i].hist = make([]int, len(store.DurationClasses)+1)
	}
	return b
}

func count(b *bucketStat, failed bool, class, n int) {
	if failed {
		b.Fail += n
	} else {
		b.OK += n
	}
	b.hist[class] += n
}

// histQuantile estimates the q-quantile (ms) of a duration histogram over
// store.DurationClasses: the class holding it, interpolated linearly.
func histQuantile(hist []int, q float64) float64 {
	total := 0
	for _, n := range hist {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	cum := 0.0
	for i, n := range hist {
		if n == 0 {
			continue
		}
		if cum+float64(n) >= rank {
			lo, hi := 0.0, 0.0
			if i > 0 {
				lo = float64(store.DurationClasses[i-1])
			}
			if i < len(store.DurationClasses) {
				hi = float64(store.DurationClasses[i])
			} else {
				hi = lo // past the last bound: say the bound
			}
			frac := (rank - cum) / float64(n)
			return (lo + (hi-lo)*frac) / 1000
		}
		cum += float64(n)
	}
	return float64(store.DurationClasses[len(store.DurationClasses)-1]) / 1000
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// num prints at most two decimals, without trailing zeros (1.25, 5, 0.5).
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func timeLabel(t time.Time, rg chartRange) string {
	if rg.Span > 24*time.Hour {
		return t.Format("Jan 2 15h")
	}
	return t.Format("15:04")
}

// frame sets a chart's size, y ticks and x labels.
func frame(ch *svgChart, ymax float64, unit string, buckets []bucketStat, rg chartRange) {
	ch.W, ch.H = chartW, chartH
	plotH := chartH - padT - padB
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		ch.YTicks = append(ch.YTicks, svgTick{X: padL - 6, Y: chartH - padB - plotH*float64(i)/4, Label: num(v) + unit})
	}
	step := max(1, len(buckets)/6)
	slot := (chartW - padL - padR) / float64(len(buckets))
	for i := 0; i < len(buckets); i += step {
		ch.XTicks = append(ch.XTicks, svgTick{X: padL + slot*float64(i) + slot/2, Y: chartH - 6, Label: timeLabel(buckets[i].Start, rg)})
	}
}

func invocationsChart(b []bucketStat, rg chartRange) svgChart {
	ch := svgChart{Title: "Invocations", Desc: "Invocations per bucket, succeeded and failed stacked, " + rg.Label,
		Headers: []string{"from (UTC)", "succeeded", "failed"}}
	top := 0
	for _, x := range b {
		top = max(top, x.OK+x.Fail)
	}
	ch.Empty = top == 0
	ymax := niceMax(float64(top))
	frame(&ch, ymax, "", b, rg)
	plotH := chartH - padT - padB
	slot := (chartW - padL - padR) / float64(len(b))
	for i, x := range b {
		left := padL + slot*float64(i) + slot*0.15
		hOK := plotH * float64(x.OK) / ymax
		hFail := plotH * float64(x.Fail) / ymax
		base := chartH - padB
		label := fmt.Sprintf("%s: %d succeeded, %d failed", timeLabel(x.Start, rg), x.OK, x.Fail)
		if x.OK > 0 {
			ch.Bars = append(ch.Bars, svgBar{X: left, Y: base - hOK, W: slot * 0.7, H: hOK, Class: "ok", Title: label})
		}
		if x.Fail > 0 {
			ch.Bars = append(ch.Bars, svgBar{X: left, Y: base - hOK - hFail, W: slot * 0.7, H: hFail, Class: "fail", Title: label})
		}
		if x.OK+x.Fail > 0 {
			ch.Rows = append(ch.Rows, []string{x.Start.Format("2006-01-02 15:04"), fmt.Sprint(x.OK), fmt.Sprint(x.Fail)})
		}
	}
	ch.Legend = []svgLine{{Class: "ok", Label: "succeeded"}, {Class: "fail", Label: "failed"}}
	return ch
}

func kindsChart(kinds map[string]int) svgChart {
	ch := svgChart{Title: "Failures by kind", Desc: "Failed invocations by error kind", Headers: []string{"kind", "failures"}}
	names := make([]string, 0, len(kinds))
	top := 0
	for k, v := range kinds {
		names = append(names, k)
		top = max(top, v)
	}
	slices.SortFunc(names, func(a, b string) int {
		if kinds[a] != kinds[b] {
			return kinds[b] - kinds[a]
		}
		return strings.Compare(a, b)
	})
	ch.Empty = len(names) == 0
	rowH := 24.0
	ch.W, ch.H = chartW, max(60, rowH*float64(len(names))+padB)
	ymax := niceMax(float64(top))
	left := 140.0
	for i, k := range names {
		wd := (chartW - left - padR - 40) * float64(kinds[k]) / ymax
		y := float64(i)*rowH + 4
		ch.Bars = append(ch.Bars, svgBar{X: left, Y: y, W: max(wd, 1), H: rowH - 8, Class: "fail", Title: fmt.Sprintf("%s: %d", k, kinds[k])})
		ch.YTicks = append(ch.YTicks, svgTick{X: left - 8, Y: y + rowH/2, Label: k})
		ch.XTicks = append(ch.XTicks, svgTick{X: left + wd + 6, Y: y + rowH/2, Label: fmt.Sprint(kinds[k])})
		ch.Rows = append(ch.Rows, []string{k, fmt.Sprint(kinds[k])})
	}
	return ch
}

func latencyChart(id string, b []bucketStat, rg chartRange) svgChart {
	ch := svgChart{Title: "Duration of " + id, Desc: "p50 and p99 duration in milliseconds of workflow " + id + ", " + rg.Label,
		Headers: []string{"from (UTC)", "invocations", "p50 ms", "p99 ms"}}
	top := 0.0
	for i := range b {
		b[i].P50, b[i].P99 = histQuantile(b[i].hist, 0.5), histQuantile(b[i].hist, 0.99)
		top = max(top, b[i].P99)
	}
	ymax := niceMax(top)
	frame(&ch, ymax, "ms", b, rg)
	plotH := chartH - padT - padB
	slot := (chartW - padL - padR) / float64(len(b))
	var p50, p99 []string
	var d50, d99 []svgTick
	for i, x := range b {
		if x.OK+x.Fail == 0 {
			continue
		}
		cx := padL + slot*float64(i) + slot/2
		y50, y99 := chartH-padB-plotH*x.P50/ymax, chartH-padB-plotH*x.P99/ymax
		p50 = append(p50, fmt.Sprintf("%.1f,%.1f", cx, y50))
		p99 = append(p99, fmt.Sprintf("%.1f,%.1f", cx, y99))
		label := fmt.Sprintf("%s: p50 %s ms, p99 %s ms over %d", timeLabel(x.Start, rg), num(x.P50), num(x.P99), x.OK+x.Fail)
		d50 = append(d50, svgTick{X: cx, Y: y50, Label: label})
		d99 = append(d99, svgTick{X: cx, Y: y99, Label: label})
		ch.Rows = append(ch.Rows, []string{x.Start.Format("2006-01-02 15:04"), fmt.Sprint(x.OK + x.Fail), num(x.P50), num(x.P99)})
	}
	ch.Empty = len(p50) == 0
	ch.Lines = []svgLine{{Class: "p99", Points: strings.Join(p99, " "), Dots: d99, Label: "p99"},
		{Class: "p50", Points: strings.Join(p50, " "), Dots: d50, Label: "p50"}}
	ch.Legend = []svgLine{{Class: "p50", Label: "p50"}, {Class: "p99", Label: "p99"}}
	return ch
}

// chartCache keeps computed chart pages for chartTTL. A stale page is
// served at once while one background refresh (bounded by a timeout)
// counts the next; a missing one is counted in the request. Bounded by
// entry count: past it, the page used longest ago is dropped.
type chartCache struct {
	mu      sync.Mutex // guards making entries and the entries' fields
	entries *lru.Cache[string, *chartEntry]
	stored  func() // tests: called when a background refresh has ended
}

type chartEntry struct {
	data       map[string]any
	at         time.Time
	refreshing bool
}

const maxChartEntries = 1000

func (cc *chartCache) get(ctx context.Context, key string, now time.Time, compute func(context.Context) (map[string]any, error)) (map[string]any, error) {
	cc.mu.Lock()
	if cc.entries == nil {
		cc.entries, _ = lru.New[string, *chartEntry](maxChartEntries) // size > 0
	}
	e, ok := cc.entries.Get(key)
	if ok {
		data := e.data
		if now.Sub(e.at) >= chartTTL && !e.refreshing {
			e.refreshing = true
			go cc.refresh(e, now, compute)
		}
		cc.mu.Unlock()
		return data, nil
	}
	cc.mu.Unlock()
	data, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	cc.entries.Add(key, &chartEntry{data: data, at: now})
	return data, nil
}

// refresh recounts a stale entry. It is not tied to the request that
// noticed the staleness: it outlives it, bounded by its own deadline.
func (cc *chartCache) refresh(e *chartEntry, now time.Time, compute func(context.Context) (map[string]any, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data, err := compute(ctx)
	cc.mu.Lock()
	e.refreshing = false
	if err == nil {
		e.data, e.at = data, now
	}
	cc.mu.Unlock()
	if cc.stored != nil {
		cc.stored()
	}
}
