package console

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Charts are drawn on the server as SVG from the runtime log's outcome rows
// (one per invocation: workflow, status, duration, error kind in its
// message), at most maxChartRows of the newest in the chosen range.

const maxChartRows = 20000

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
	durs     []float64
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
	rg, ok := chartRanges[rk]
	if !ok {
		rk, rg = "24h", chartRanges["24h"]
	}
	now := c.now().UTC()
	end := now.Truncate(rg.Bucket).Add(rg.Bucket)
	start := end.Add(-rg.Span)
	rows, err := c.deploy.Store().Outcomes(r.Context(), env, start, maxChartRows)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	failures, err := c.deploy.Store().FailureMessages(r.Context(), env, start, maxChartRows)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	kinds := map[string]int{}
	for _, m := range failures {
		kinds[kindOf(m)]++
	}
	n := int(rg.Span / rg.Bucket)
	all := make([]bucketStat, n)
	perWF := map[string][]bucketStat{}
	for i := range all {
		all[i].Start = start.Add(time.Duration(i) * rg.Bucket)
	}
	for _, o := range rows {
		i := int(o.At.Sub(start) / rg.Bucket)
		if i < 0 || i >= n {
			continue
		}
		ms := float64(o.Duration.Microseconds()) / 1000
		failed := o.Status != "succeeded"
		count(&all[i], failed, ms)
		b, ok := perWF[o.WorkflowID]
		if !ok {
			b = make([]bucketStat, n)
			for j := range b {
				b[j].Start = all[j].Start
			}
			perWF[o.WorkflowID] = b
		}
		count(&b[i], failed, ms)
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
	c.render(w, r, http.StatusOK, "charts", s, map[string]any{"Title": "Charts · " + env, "Tab": "charts",
		"Range": rk, "RangeLabel": rg.Label, "Ranges": []string{"1h", "24h", "7d"},
		"Invocations": invocationsChart(all, rg), "Kinds": kindsChart(kinds), "Latency": latency, "Total": len(rows),
		"Cut": len(rows) == maxChartRows || len(failures) == maxChartRows})
}

func count(b *bucketStat, failed bool, ms float64) {
	if failed {
		b.Fail++
	} else {
		b.OK++
	}
	b.durs = append(b.durs, ms)
}

// kindOf reads the error kind from an outcome row's message
// ("invocation failed (<kind>): …").
func kindOf(message string) string {
	if rest, ok := strings.CutPrefix(message, "invocation failed ("); ok {
		if k, _, ok := strings.Cut(rest, ")"); ok && knownKind(k) {
			return k
		}
	}
	return "other"
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
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
		slices.Sort(b[i].durs)
		b[i].P50, b[i].P99 = quantile(b[i].durs, 0.5), quantile(b[i].durs, 0.99)
		top = max(top, b[i].P99)
	}
	ymax := niceMax(top)
	frame(&ch, ymax, "ms", b, rg)
	plotH := chartH - padT - padB
	slot := (chartW - padL - padR) / float64(len(b))
	var p50, p99 []string
	var d50, d99 []svgTick
	for i, x := range b {
		if len(x.durs) == 0 {
			continue
		}
		cx := padL + slot*float64(i) + slot/2
		y50, y99 := chartH-padB-plotH*x.P50/ymax, chartH-padB-plotH*x.P99/ymax
		p50 = append(p50, fmt.Sprintf("%.1f,%.1f", cx, y50))
		p99 = append(p99, fmt.Sprintf("%.1f,%.1f", cx, y99))
		label := fmt.Sprintf("%s: p50 %s ms, p99 %s ms over %d", timeLabel(x.Start, rg), num(x.P50), num(x.P99), len(x.durs))
		d50 = append(d50, svgTick{X: cx, Y: y50, Label: label})
		d99 = append(d99, svgTick{X: cx, Y: y99, Label: label})
		ch.Rows = append(ch.Rows, []string{x.Start.Format("2006-01-02 15:04"), fmt.Sprint(len(x.durs)), num(x.P50), num(x.P99)})
	}
	ch.Empty = len(p50) == 0
	ch.Lines = []svgLine{{Class: "p99", Points: strings.Join(p99, " "), Dots: d99, Label: "p99"},
		{Class: "p50", Points: strings.Join(p50, " "), Dots: d50, Label: "p50"}}
	ch.Legend = []svgLine{{Class: "p50", Label: "p50"}, {Class: "p99", Label: "p99"}}
	return ch
}
