package classify

import (
	"errors"
	"fmt"
	hashfnv "hash/fnv"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

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
	// WordL2 is the ridge penalty on word features (see words.go); 0
	// chooses it by cross-validation inside the items of the fit
	// (chooseWordL2), a negative value leaves word features out.
	WordL2 float64
	// WordMinItems and WordMinSources: a stem becomes a feature when it
	// is in at least this many relevant training items of at least this
	// many sources.
	WordMinItems, WordMinSources int
	// pen, when set, is the ridge penalty of each feature (the head's
	// L2, or WordL2 for a word)
	pen []float64
}

// DefaultL2 and DefaultIterations are the settings of the shipped fit,
// chosen by out-of-fold scores on the labelled items.
const (
	DefaultL2           = 0.005
	DefaultTopicL2      = 0.005
	DefaultStanceL2     = 0.005
	DefaultTopicBalance = 0.5
	DefaultIterations   = 1000
	DefaultWordMinItems = 5
	DefaultWordMinSrc   = 3
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
	if o.WordMinItems <= 0 {
		o.WordMinItems = DefaultWordMinItems
	}
	if o.WordMinSources <= 0 {
		o.WordMinSources = DefaultWordMinSrc
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
	return e.fit(e.featurizeWords(items, opt), items, opt)
}

// unfitted compiles the vocabulary of p without its model.
func unfitted(p *rules.Pack) (*Engine, error) {
	q := *p
	q.Model = nil
	return New(&q)
}

// featurizeWords adds to the feature space every stem that some subset
// of the items could make a feature of (see wordVocab), then computes the
// features of every item.
func (e *Engine) featurizeWords(items []Labelled, opt FitOptions) [][]float64 {
	opt = opt.withDefaults()
	if opt.WordL2 >= 0 {
		z := e.pool.get()
		df := map[string]int{}
		for _, l := range items {
			if !l.Relevant {
				continue
			}
			for st := range e.itemStems(z, e.scan(z, l.Item)) {
				df[st]++
			}
		}
		e.pool.put(z)
		var stems []string
		for st, n := range df {
			if n >= opt.WordMinItems {
				stems = append(stems, st)
			}
		}
		sort.Strings(stems)
		e.fs.addWords(stems)
	}
	return e.featurize(items)
}

// featurize computes the features of every item (no prefilter: the fit
// sees every item whole).
func (e *Engine) featurize(items []Labelled) [][]float64 {
	out := make([][]float64, len(items))
	z := e.pool.get()
	defer e.pool.put(z)
	for i, l := range items {
		fs := e.scan(z, l.Item)
		e.extract(fs, l.Item, &z.v)
		e.extractWords(z, fs, &z.v)
		out[i] = append([]float64(nil), z.v.x...)
	}
	return out
}

// wordVocab is the word features a fit on items may use: stems in at
// least opt.WordMinItems relevant items of at least opt.WordMinSources
// sources.
func (e *Engine) wordVocab(X [][]float64, items []Labelled, idx []int, opt FitOptions) map[int32]bool {
	ok := map[int32]bool{}
	for _, f := range e.fs.wordFeats {
		n := 0
		src := map[string]bool{}
		for _, i := range idx {
			if l := &items[i]; l.Relevant && X[i][f] > 0 {
				n++
				src[l.Item.SourceName] = true
			}
		}
		if n >= opt.WordMinItems && len(src) >= opt.WordMinSources {
			ok[f] = true
		}
	}
	return ok
}

func (e *Engine) fit(X [][]float64, items []Labelled, opt FitOptions) (*rules.Model, error) {
	opt = opt.withDefaults()
	if len(items) == 0 {
		return nil, errors.New("classify fit: no labelled items")
	}
	s := e.fs
	all := make([]int, len(items))
	var rel []int
	for i, l := range items {
		all[i] = i
		if l.Relevant {
			rel = append(rel, i)
		}
	}
	m := &rules.Model{Fitted: opt.Fitted, L2: opt.L2, Topics: map[rules.Topic]rules.Head{}, Stance: map[string]rules.Head{}}
	// relevance
	y := make([]float64, len(all))
	for i, l := range items {
		if l.Relevant {
			y[i] = 1
		}
	}
	m.Relevance = e.head(binaryFit(e.rows(X, s.relBlock, all, nil), y, nil, s.relSign, len(s.names), opt), s.relBlock)
	if len(rel) == 0 {
		return nil, errors.New("classify fit: no item is labelled relevant: topics and stance cannot be fitted")
	}
	wt, ws := opt.WordL2, opt.WordL2
	if opt.WordL2 == 0 && len(s.wordFeats) > 0 {
		wt, ws = e.chooseWordL2(X, items, opt)
	}
	m.WordL2Topics, m.WordL2Stance = wt, ws
	words := e.wordVocab(X, items, all, opt)
	if opt.WordL2 < 0 {
		words, wt, ws = nil, 0, 0 // no word features in any head
	}
	ts := e.fitTopicsStance(X, items, rel, words, wt, ws, opt, opt.Iterations)
	for t, id := range e.topics {
		if ts.seen[t] {
			m.Topics[id] = e.head(ts.topics[t], s.topicBlock[t])
		}
	}
	for c, l := range rules.StanceHeads() {
		m.Stance[l] = e.head(ts.stance[c], s.stBlock)
	}
	return m, nil
}

// rows is the items idx restricted to a block of features; word features
// only when in words.
func (e *Engine) rows(X [][]float64, block []int32, idx []int, words map[int32]bool) []srow {
	out := make([]srow, len(idx))
	for k, i := range idx {
		for _, f := range block {
			if e.fs.isWord(f) && !words[f] {
				continue
			}
			if x := X[i][f]; x != 0 {
				out[k].f = append(out[k].f, f)
				out[k].x = append(out[k].x, x)
			}
		}
	}
	return out
}

// tsFit is the topic heads and the stance softmax of a fit.
type tsFit struct {
	topics []lin
	seen   []bool // a topic no training item has is never tagged
	stance [3]lin
}

// fitTopicsStance fits the topic heads and the stance softmax on the
// relevant items rel, word features from words with the ridge penalty wt
// (topics; negative: no topic heads) and ws (stance; negative: no
// words). Topic heads are fitted in
// parallel; each is deterministic, so the result is too.
func (e *Engine) fitTopicsStance(X [][]float64, items []Labelled, rel []int, words map[int32]bool, wt, ws float64, opt FitOptions, iters int) tsFit {
	s := e.fs
	opt.Iterations = iters
	pen := func(l2, wl2 float64) []float64 {
		p := make([]float64, len(s.names))
		for j := range p {
			p[j] = l2
			if s.isWord(int32(j)) {
				p[j] = wl2
			}
		}
		return p
	}
	out := tsFit{topics: make([]lin, len(e.topics)), seen: make([]bool, len(e.topics))}
	topicWords := words
	nTopics := len(e.topics)
	if wt < 0 {
		nTopics = 0 // no topic heads without words (see chooseWordL2)
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for g := 0; g < fitWorkers(); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				id := e.topics[t]
				yt := make([]float64, len(rel))
				n := 0
				for k, i := range rel {
					if slices.Contains(items[i].Topics, id) {
						yt[k] = 1
						n++
					}
				}
				if n == 0 {
					continue
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
				to.pen = pen(opt.TopicL2, wt)
				out.topics[t] = binaryFit(e.rows(X, s.topicBlock[t], rel, topicWords), yt, sw, s.topicSign, len(s.names), to)
				out.seen[t] = true
			}
		}()
	}
	for t := 0; t < nTopics; t++ {
		work <- t
	}
	close(work)
	// stance, classes weighted to balance them (the score is macro-F1)
	ys := stanceClasses(items, rel)
	count := [3]float64{}
	for _, c := range ys {
		count[c]++
	}
	sw := make([]float64, len(rel))
	for k := range rel {
		sw[k] = float64(len(rel)) / (3 * math.Max(count[ys[k]], 1))
	}
	so := opt
	so.L2 = opt.StanceL2
	so.pen = pen(opt.StanceL2, ws)
	stanceWords := words
	if ws < 0 {
		stanceWords = nil
	}
	out.stance = softmaxFit(e.rows(X, s.stBlock, rel, stanceWords), ys, sw, s.stSign, len(s.names), so)
	wg.Wait()
	return out
}

// stanceClasses maps the stance labels of items idx to the softmax
// classes: 0 supportive, 1 critical, 2 neutral (and mixed).
func stanceClasses(items []Labelled, idx []int) []int {
	ys := make([]int, len(idx))
	for k, i := range idx {
		switch items[i].Stance {
		case StanceSupportive:
			ys[k] = 0
		case StanceCritical:
			ys[k] = 1
		default:
			ys[k] = 2
		}
	}
	return ys
}

// fitWorkers is how many heads are fitted at once.
func fitWorkers() int { return max(1, min(runtime.GOMAXPROCS(0), 4)) }

// wordL2Grid are the ridge penalties of word features the fit chooses
// from (see chooseWordL2); a negative value leaves words out.
var wordL2Grid = [...]float64{-1, 0.005, 0.002, 0.001, 0.0005}

// chooseWordL2 picks the penalty of word features for the topic heads and
// for the stance softmax by cross-validation inside the items it is given
// (3 folds grouped by source, shorter fits): the best topic micro-F1 and
// stance macro-F1 on the inner held-out items; on a tie the stronger
// penalty. Called from a fold of CrossValidate it sees only that fold's
// training items: the choice is nested, never made on the items scored.
func (e *Engine) chooseWordL2(X [][]float64, items []Labelled, opt FitOptions) (wt, ws float64) {
	const innerFolds = 3
	type pred struct {
		p    float64
		want bool
	}
	// topic predictions on the inner held-out items, per penalty and topic
	var probs [len(wordL2Grid)][][]pred
	var conf [len(wordL2Grid)][3][3]int
	for g := range probs {
		probs[g] = make([][]pred, len(e.topics))
	}
	for _, held := range Folds(items, innerFolds) {
		in := map[int]bool{}
		for _, i := range held {
			in[i] = true
		}
		var train, trainRel, heldRel []int
		for i, l := range items {
			switch {
			case in[i] && l.Relevant:
				heldRel = append(heldRel, i)
			case !in[i]:
				train = append(train, i)
				if l.Relevant {
					trainRel = append(trainRel, i)
				}
			}
		}
		if len(trainRel) == 0 || len(heldRel) == 0 {
			continue
		}
		words := e.wordVocab(X, items, train, opt)
		gold := stanceClasses(items, heldRel)
		for g, l2 := range wordL2Grid {
			ts := e.fitTopicsStance(X, items, trainRel, words, l2, l2, opt, max(opt.Iterations/3, 100))
			for k, i := range heldRel {
				for t, id := range e.topics {
					if l2 < 0 {
						break // topic heads always read words
					}
					p := 0.0
					if ts.seen[t] {
						p = sigmoid(e.linScore(ts.topics[t], e.fs.topicBlock[t], X[i], words, l2 >= 0))
					}
					probs[g][t] = append(probs[g][t], pred{p, slices.Contains(items[i].Topics, id)})
				}
				best, bestZ := 0, math.Inf(-1)
				for c := range ts.stance {
					if z := e.linScore(ts.stance[c], e.fs.stBlock, X[i], words, l2 >= 0); z > bestZ {
						best, bestZ = c, z
					}
				}
				conf[g][gold[k]][best]++
			}
		}
	}
	count := func(ps []pred, th float64) (tp, fp, fn int) {
		for _, q := range ps {
			got := q.p >= th
			switch {
			case got && q.want:
				tp++
			case got:
				fp++
			case q.want:
				fn++
			}
		}
		return
	}
	// topics: the penalty with the best micro-F1 (topic heads always
	// read words); stance: the best macro-F1, words or none
	bestT, bestS := -1.0, -1.0
	for g := range wordL2Grid {
		if wordL2Grid[g] >= 0 {
			var tp, fp, fn int
			for t := range e.topics {
				a, b, d := count(probs[g][t], 0.5)
				tp, fp, fn = tp+a, fp+b, fn+d
			}
			if f := prf(tp, fp, fn).F1; f > bestT+1e-9 {
				bestT, wt = f, wordL2Grid[g]
			}
		}
		st := 0.0
		for c := 0; c < 3; c++ {
			tp, fp, fn := conf[g][c][c], 0, 0
			for o := 0; o < 3; o++ {
				if o != c {
					fp += conf[g][o][c]
					fn += conf[g][c][o]
				}
			}
			st += prf(tp, fp, fn).F1 / 3
		}
		if st > bestS+1e-9 {
			bestS, ws = st, wordL2Grid[g]
		}
	}
	return wt, ws
}

// linScore is the score of a fitted head on one item's features.
func (e *Engine) linScore(l lin, block []int32, x []float64, words map[int32]bool, useWords bool) float64 {
	z := l.bias
	for _, f := range block {
		if e.fs.isWord(f) && (!useWords || !words[f]) {
			continue
		}
		z += l.w[f] * x[f]
	}
	return z
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
				l2 := opt.L2
				if opt.pen != nil {
					l2 = opt.pen[j]
				}
				gj += l2 * (look[j] - mu)
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
					l2 := opt.L2
					if opt.pen != nil {
						l2 = opt.pen[j]
					}
					gj += l2 * look[c][j]
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
	X := e.featurizeWords(items, opt)
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
	rep := scoreWithLangs(e.topics, items, in)
	o := scoreWithLangs(e.topics, items, oof)
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
