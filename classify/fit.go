package classify

import (
	"errors"
	"fmt"
	hashfnv "hash/fnv"
	"math"
	"sort"

	"github.com/treatywatch/treatywatch/classify/rules"
)

// FitOptions tune the fit. The zero value is the fit the shipped pack was
// made with.
type FitOptions struct {
	// L2 is the ridge penalty on the weights (not on the biases).
	L2 float64
	// Iterations of accelerated gradient descent per head.
	Iterations int
	// Fitted is written into the model, to say what it was fitted on.
	Fitted string
	// TopicL2 and StanceL2 override L2 for those heads.
	TopicL2, StanceL2 float64
	// TopicBalance weighs the positive items of a topic up, toward as
	// much total weight as the negatives (0: none, 1: fully balanced).
	TopicBalance float64
}

// DefaultL2 and DefaultIterations are the settings of the shipped fit,
// chosen by out-of-fold scores on the labelled items.
const (
	DefaultL2           = 0.005
	DefaultTopicL2      = 0.005
	DefaultStanceL2     = 0.005
	DefaultTopicBalance = 0.5
	DefaultIterations   = 3000
)

func (o FitOptions) withDefaults() FitOptions {
	if o.L2 <= 0 {
		o.L2 = DefaultL2
	}
	if o.Iterations <= 0 {
		o.Iterations = DefaultIterations
	}
	if o.TopicL2 <= 0 {
		o.TopicL2 = DefaultTopicL2
	}
	if o.StanceL2 <= 0 {
		o.StanceL2 = DefaultStanceL2
	}
	if o.TopicBalance < 0 {
		o.TopicBalance = 0
	} else if o.TopicBalance == 0 {
		o.TopicBalance = DefaultTopicBalance
	}
	return o
}

// srow is one item's features restricted to a head's block.
type srow struct {
	f []int32
	x []float64
}

// Fit learns the model of a pack from labelled items: a logistic head for
// relevance (all items), one per topic and a softmax for stance (items
// relevant in the labels; mixed counts as neutral). Regularised
// (ridge) logistic regression by accelerated gradient descent from zero,
// a fixed number of steps, items in file order: the same items give the
// same weights. The pack's own model, if any, is ignored.
func Fit(p *rules.Pack, items []Labelled, opt FitOptions) (*rules.Model, error) {
	e, err := unfitted(p)
	if err != nil {
		return nil, err
	}
	return e.fit(e.featurize(items), items, opt)
}

// unfitted compiles the vocabulary of p without its model.
func unfitted(p *rules.Pack) (*Engine, error) {
	q := *p
	q.Model = nil
	return New(&q)
}

// featurize computes the features of every item (no prefilter: the fit
// sees every item whole).
func (e *Engine) featurize(items []Labelled) [][]float64 {
	out := make([][]float64, len(items))
	z := e.pool.Get().(*scratch)
	defer e.pool.Put(z)
	for i, l := range items {
		fs := e.scan(z, l.Item)
		e.extract(fs, l.Item, &z.v)
		out[i] = append([]float64(nil), z.v.x...)
	}
	return out
}

func (e *Engine) fit(X [][]float64, items []Labelled, opt FitOptions) (*rules.Model, error) {
	opt = opt.withDefaults()
	if len(items) == 0 {
		return nil, errors.New("classify fit: no labelled items")
	}
	s := e.fs
	rows := func(block []int32, idx []int) []srow {
		out := make([]srow, len(idx))
		for k, i := range idx {
			for _, f := range block {
				if x := X[i][f]; x != 0 {
					out[k].f = append(out[k].f, f)
					out[k].x = append(out[k].x, x)
				}
			}
		}
		return out
	}
	all := make([]int, len(items))
	var rel []int
	for i, l := range items {
		all[i] = i
		if l.Relevant {
			rel = append(rel, i)
		}
	}
	m := &rules.Model{Fitted: opt.Fitted, L2: opt.L2, Topics: map[string]rules.Head{}, Stance: map[string]rules.Head{}}
	// relevance
	y := make([]float64, len(all))
	for i, l := range items {
		if l.Relevant {
			y[i] = 1
		}
	}
	m.Relevance = e.head(binaryFit(rows(s.relBlock, all), y, nil, s.relSign, len(s.names), opt), s.relBlock)
	if len(rel) == 0 {
		return nil, errors.New("classify fit: no item is labelled relevant: topics and stance cannot be fitted")
	}
	// topics
	for t, id := range e.topics {
		yt := make([]float64, len(rel))
		n := 0
		for k, i := range rel {
			for _, g := range items[i].Topics {
				if g == id {
					yt[k] = 1
					n++
				}
			}
		}
		if n == 0 {
			continue // never seen: never tagged
		}
		var sw []float64
		if opt.TopicBalance > 0 {
			up := math.Pow(float64(len(rel)-n)/float64(n), opt.TopicBalance)
			sw = make([]float64, len(rel))
			for k := range sw {
				sw[k] = 1
				if yt[k] == 1 {
					sw[k] = up
				}
			}
		}
		to := opt
		to.L2 = opt.TopicL2
		m.Topics[id] = e.head(binaryFit(rows(s.topicBlock[t], rel), yt, sw, s.topicSign, len(s.names), to), s.topicBlock[t])
	}
	// stance, classes weighted to balance them (the score is macro-F1)
	ys := make([]int, len(rel))
	count := [3]float64{}
	for k, i := range rel {
		c := 2
		switch items[i].Stance {
		case StanceSupportive:
			c = 0
		case StanceCritical:
			c = 1
		}
		ys[k] = c
		count[c]++
	}
	sw := make([]float64, len(rel))
	for k := range rel {
		sw[k] = float64(len(rel)) / (3 * math.Max(count[ys[k]], 1))
	}
	so := opt
	so.L2 = opt.StanceL2
	heads := softmaxFit(rows(s.stBlock, rel), ys, sw, s.stSign, len(s.names), so)
	for c, l := range rules.StanceHeads() {
		m.Stance[l] = e.head(heads[c], s.stBlock)
	}
	return m, nil
}

// lin is a fitted linear function over the feature space.
type lin struct {
	bias float64
	w    []float64
}

func (e *Engine) head(l lin, block []int32) rules.Head {
	h := rules.Head{Bias: l.bias, Weights: map[string]float64{}}
	for _, f := range block {
		if l.w[f] != 0 {
			h.Weights[e.fs.names[f]] = l.w[f]
		}
	}
	return h
}

// step is 1/L for the logistic loss: L <= c * max ||x||^2 + l2.
func step(rs []srow, c, l2 float64) float64 {
	mx := 1.0
	for _, r := range rs {
		n := 1.0 // the bias
		for _, x := range r.x {
			n += x * x
		}
		mx = math.Max(mx, n)
	}
	return 1 / (c*mx + l2)
}

// binaryFit minimises the mean (weighted) log loss plus l2/2 ||w||^2.
func binaryFit(rs []srow, y, sw []float64, sign []int8, nf int, opt FitOptions) lin {
	return binaryFitPrior(rs, y, sw, sign, nil, nf, opt)
}

// binaryFitPrior pulls the weights toward prior (the expert's value for
// features the labelled items may never show, such as a near-miss guard)
// instead of toward zero: l2/2 ||w - prior||^2.
func binaryFitPrior(rs []srow, y, sw []float64, sign []int8, prior []float64, nf int, opt FitOptions) lin {
	n := float64(len(rs))
	eta := step(rs, 0.25, opt.L2)
	w, wPrev, look := make([]float64, nf+1), make([]float64, nf+1), make([]float64, nf+1)
	if prior != nil {
		copy(w, prior)
		copy(wPrev, prior)
	}
	g := make([]float64, nf+1)
	b := nf // bias index
	for it := 1; it <= opt.Iterations; it++ {
		mom := float64(it-1) / float64(it+2)
		for j := range look {
			look[j] = w[j] + mom*(w[j]-wPrev[j])
			g[j] = 0
		}
		for k, r := range rs {
			z := look[b]
			for q, f := range r.f {
				z += look[f] * r.x[q]
			}
			d := sigmoid(z) - y[k]
			if sw != nil {
				d *= sw[k]
			}
			d /= n
			g[b] += d
			for q, f := range r.f {
				g[f] += d * r.x[q]
			}
		}
		copy(wPrev, w)
		for j := range w {
			gj := g[j]
			if j != b {
				mu := 0.0
				if prior != nil {
					mu = prior[j]
				}
				gj += opt.L2 * (look[j] - mu)
			}
			w[j] = project(look[j]-eta*gj, j, sign)
		}
	}
	return lin{bias: w[b], w: w[:nf]}
}

// softmaxFit is the multinomial version for the three stance labels.
func softmaxFit(rs []srow, y []int, sw []float64, sign [3][]int8, nf int, opt FitOptions) [3]lin {
	const K = 3
	n := float64(len(rs))
	eta := step(rs, 0.5, opt.L2)
	var w, wPrev, look, g [K][]float64
	for c := 0; c < K; c++ {
		w[c], wPrev[c], look[c], g[c] = make([]float64, nf+1), make([]float64, nf+1), make([]float64, nf+1), make([]float64, nf+1)
	}
	b := nf
	var z, p [K]float64
	for it := 1; it <= opt.Iterations; it++ {
		mom := float64(it-1) / float64(it+2)
		for c := 0; c < K; c++ {
			for j := range look[c] {
				look[c][j] = w[c][j] + mom*(w[c][j]-wPrev[c][j])
				g[c][j] = 0
			}
		}
		for k, r := range rs {
			mx := math.Inf(-1)
			for c := 0; c < K; c++ {
				z[c] = look[c][b]
				for q, f := range r.f {
					z[c] += look[c][f] * r.x[q]
				}
				mx = math.Max(mx, z[c])
			}
			sum := 0.0
			for c := 0; c < K; c++ {
				p[c] = math.Exp(z[c] - mx)
				sum += p[c]
			}
			for c := 0; c < K; c++ {
				d := p[c] / sum
				if c == y[k] {
					d--
				}
				d *= sw[k] / n
				g[c][b] += d
				for q, f := range r.f {
					g[c][f] += d * r.x[q]
				}
			}
		}
		for c := 0; c < K; c++ {
			copy(wPrev[c], w[c])
			for j := range w[c] {
				gj := g[c][j]
				if j != b {
					gj += opt.L2 * look[c][j]
				}
				w[c][j] = project(look[c][j]-eta*gj, j, sign[c])
			}
		}
	}
	var out [K]lin
	for c := 0; c < K; c++ {
		out[c] = lin{bias: w[c][b], w: w[c][:nf]}
	}
	return out
}

// Folds splits items into k folds grouped by source: every item of a
// source lands in the same fold, so no outlet is on both sides of a
// split. Sources are ordered by a hash of their name and dealt to the
// fold with the fewest items so far: the split is the same on every run.
func Folds(items []Labelled, k int) [][]int {
	bySource := map[string][]int{}
	for i, l := range items {
		src := l.Item.SourceName
		if src == "" {
			src = l.ID
		}
		bySource[src] = append(bySource[src], i)
	}
	type grp struct {
		h   uint32
		src string
		idx []int
	}
	var gs []grp
	for s, idx := range bySource {
		h := hashfnv.New32a()
		h.Write([]byte(s))
		gs = append(gs, grp{h.Sum32(), s, idx})
	}
	sort.Slice(gs, func(a, b int) bool {
		if len(gs[a].idx) != len(gs[b].idx) {
			return len(gs[a].idx) > len(gs[b].idx)
		}
		if gs[a].h != gs[b].h {
			return gs[a].h < gs[b].h
		}
		return gs[a].src < gs[b].src
	})
	folds := make([][]int, k)
	for _, g := range gs {
		best := 0
		for f := 1; f < k; f++ {
			if len(folds[f]) < len(folds[best]) {
				best = f
			}
		}
		folds[best] = append(folds[best], g.idx...)
	}
	for f := range folds {
		sort.Ints(folds[f])
	}
	return folds
}

// CrossValidate fits the pack's vocabulary on all items and scores them
// (in-sample), then fits on k-1 folds and scores the held-out fold, for
// each fold (out-of-fold). Folds are grouped by source (see Folds). Each
// held-out item is classified by a real engine built from the fold's
// pack, the code path of production. The report is the in-sample one, with
// the out-of-fold report in Folds; both carry per-language tables.
func CrossValidate(p *rules.Pack, items []Labelled, k int, opt FitOptions) (Report, error) {
	if k < 2 || k > len(items) {
		return Report{}, fmt.Errorf("classify: --folds %d: need 2 <= folds <= %d items", k, len(items))
	}
	e, err := unfitted(p)
	if err != nil {
		return Report{}, err
	}
	X := e.featurize(items)
	build := func(idx []int) (*Engine, error) {
		sub := make([]Labelled, len(idx))
		subX := make([][]float64, len(idx))
		for j, i := range idx {
			sub[j], subX[j] = items[i], X[i]
		}
		m, err := e.fit(subX, sub, opt)
		if err != nil {
			return nil, err
		}
		q := *p
		q.Model = m
		return New(&q)
	}
	all := make([]int, len(items))
	for i := range all {
		all[i] = i
	}
	full, err := build(all)
	if err != nil {
		return Report{}, err
	}
	in := make([]Result, len(items))
	for i, l := range items {
		in[i] = full.Classify(l.Item)
	}
	oof := make([]Result, len(items))
	folds := Folds(items, k)
	for f, held := range folds {
		var train []int
		for g, idx := range folds {
			if g != f {
				train = append(train, idx...)
			}
		}
		sort.Ints(train)
		fe, err := build(train)
		if err != nil {
			return Report{}, fmt.Errorf("fold %d: %w", f+1, err)
		}
		for _, i := range held {
			oof[i] = fe.Classify(items[i].Item)
		}
	}
	rep := scoreWithLangs(items, in)
	o := scoreWithLangs(items, oof)
	rep.Folds = &o
	rep.FoldCount = k
	return rep, nil
}

// project keeps weight j on the side its sign allows.
func project(w float64, j int, sign []int8) float64 {
	if j >= len(sign) {
		return w // the bias
	}
	switch {
	case sign[j] > 0 && w < 0, sign[j] < 0 && w > 0:
		return 0
	}
	return w
}
