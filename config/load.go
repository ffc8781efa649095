package config

import (
	"bytes"
	_ "embed" // the default config
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the embedded default config.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Error is one problem in a config file, at a line, in a field.
type Error struct {
	File string
	Line int    // 0 when no line is known
	Path string // the field, e.g. "sources[3].schedule"; empty for the file
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(clip(e.Msg, maxMessage))
	return b.String()
}

// A config value is echoed in a message only in part: a 50 MB value
// would otherwise be printed whole.
const (
	maxEcho    = 512  // bytes of a value quoted in a message
	maxMessage = 2048 // bytes of a whole message
)

// clip returns s cut to at most n bytes (at a character boundary), saying
// how long it was.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// clipArgs clips the string arguments of a message.
func clipArgs(args []any) []any {
	var out []any // a copy, made at the first long string
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > maxEcho {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i] = clip(s, maxEcho)
		}
	}
	if out == nil {
		return args
	}
	return out
}

// Load reads and parses the config file at path. Relative paths in it are
// made absolute against the file's directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	base := filepath.Dir(path)
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	return parseIn(path, base, data, os.LookupEnv)
}

// Default parses the embedded default config.
func Default() (*Config, error) {
	return Parse("default.yaml (embedded)", defaultYAML)
}

// Parse decodes data strictly, applies the defaults and validates. name is
// the file name used in errors and the base of relative paths. All problems
// found are returned at once, joined (errors.Join); each is an *Error.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, os.LookupEnv)
}

// lookupFunc reads an environment variable.
type lookupFunc func(string) (string, bool)

func parse(name string, data []byte, env lookupFunc) (*Config, error) {
	return parseIn(name, filepath.Dir(name), data, env)
}

// parseIn parses with relative paths taken relative to base.
func parseIn(name, base string, data []byte, env lookupFunc) (*Config, error) {
	p := &parser{file: name, env: env, lines: map[string]int{}, failed: map[string]bool{}}
	var cfg Config
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, p.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: name, Line: extra.Line, Msg: "more than one YAML document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, p.syntaxError(err)
	}
	p.lines[""] = 1
	if len(root.Content) > 0 {
		p.decode("", root.Content[0], reflect.ValueOf(&cfg).Elem())
	}
	present := func(path string) bool { _, ok := p.lines[path]; return ok }
	applyDefaults(&cfg, base, env, present, func(path string, err error) {
		p.fail(path, p.lineOf(path), "%s", err.Error())
	})
	v := &validator{p: p}
	v.config(&cfg)
	if err := p.err(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate checks a config built or changed in code. Errors carry no line.
func (c *Config) Validate() error {
	p := &parser{file: "config", lines: map[string]int{}, failed: map[string]bool{}}
	(&validator{p: p}).config(c)
	return p.err()
}

// parser walks the YAML node tree into the config structs, remembering the
// line of every field it sees, so that validation can point at it.
type parser struct {
	file   string
	env    lookupFunc
	lines  map[string]int  // field path -> line of its key
	failed map[string]bool // paths that did not decode
	errs   []*Error
}

// err joins the problems found, in line order; nil when there are none.
func (p *parser) err() error {
	slices.SortStableFunc(p.errs, func(a, b *Error) int { return a.Line - b.Line })
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

var (
	yamlLine    = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	typeErrLine = regexp.MustCompile(`^line \d+: (.*)$`)
	typeErrText = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
)

// typeMessage rewords a yaml.v3 type error ("line 4: cannot unmarshal !!str
// `many` into int") as "want an integer, got \"many\"".
func typeMessage(msg string) string {
	if m := typeErrLine.FindStringSubmatch(msg); m != nil {
		msg = m[1]
	}
	m := typeErrText.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := map[string]string{
		"int":               "an integer",
		"bool":              "true or false",
		"string":            "a string",
		"[]string":          "a list of strings",
		"map[string]string": "a mapping of names to strings",
	}[m[3]]
	if want == "" {
		return msg
	}
	got := strconv.Quote(clip(m[2], maxEcho))
	switch m[1] {
	case "map":
		got = "a mapping"
	case "seq":
		got = "a list"
	}
	return "want " + want + ", got " + got
}

func (p *parser) syntaxError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{File: p.file, Line: n, Msg: "bad YAML: " + m[2]}
	}
	return &Error{File: p.file, Msg: "bad YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

func (p *parser) fail(path string, line int, format string, args ...any) {
	p.failed[path] = true
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Path: path, Msg: fmt.Sprintf(format, clipArgs(args)...)})
}

// lineOf returns the line of path, or of its nearest ancestor that was in
// the file.
func (p *parser) lineOf(path string) int {
	for {
		if n, ok := p.lines[path]; ok {
			return n
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// hasFailed reports whether path or an ancestor did not decode.
// present reports whether the file has the key at path.
func (p *parser) present(path string) bool {
	_, ok := p.lines[path]
	return ok
}

func (p *parser) hasFailed(path string) bool {
	for {
		if p.failed[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = parentPath(path)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// structured reports whether the walker descends into t (a struct without
// its own UnmarshalYAML), rather than decoding it as a leaf.
func structured(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType)
}

func (p *parser) decode(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // leave the zero value; defaults fill it in
	}
	t := v.Type()
	switch {
	case structured(t):
		p.decodeStruct(path, n, v)
	case t.Kind() == reflect.Pointer && structured(t.Elem()):
		e := reflect.New(t.Elem())
		p.decodeStruct(path, n, e.Elem())
		v.Set(e)
	case t.Kind() == reflect.Slice && structured(t.Elem()):
		if n.Kind != yaml.SequenceNode {
			p.fail(path, n.Line, "want a list, got a %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ip := path + "[" + strconv.Itoa(i) + "]"
			p.lines[ip] = item.Line
			p.decode(ip, item, s.Index(i))
		}
		v.Set(s)
	default:
		p.decodeLeaf(path, n, v)
	}
}

func (p *parser) decodeStruct(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		p.fail(path, n.Line, "want a mapping, got a %s", kindName(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		fp := join(path, key)
		if k.Kind != yaml.ScalarNode {
			p.fail(path, k.Line, "keys must be plain strings")
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.fail(path, k.Line, "merge keys (<<) are not supported")
			continue
		}
		if first, dup := seen[key]; dup {
			p.fail(fp, k.Line, "duplicate key (first at line %d)", first)
			continue
		}
		seen[key] = k.Line
		idx, ok := fields[key]
		if !ok {
			msg := "unknown field"
			if s := suggest(key, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			p.fail(fp, k.Line, "%s", msg)
			continue
		}
		p.lines[fp] = k.Line
		p.decode(fp, val, v.Field(idx))
	}
}

func (p *parser) decodeLeaf(path string, n *yaml.Node, v reflect.Value) {
	p.leafLines(path, n)
	if !p.expand(path, n) {
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			p.fail(path, n.Line, "%s", typeMessage(te.Errors[0]))
			return
		}
		p.fail(path, n.Line, "%s", err.Error())
	}
}

// leafLines records the lines of the elements of a list or map value, so
// that "headers.Cookie" or "allow_private[2]" can be pointed at.
func (p *parser) leafLines(path string, n *yaml.Node) {
	switch n.Kind {
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p.lines[path+"["+strconv.Itoa(i)+"]"] = c.Line
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p.lines[join(path, n.Content[i].Value)] = n.Content[i].Line
		}
	}
}

// expand replaces ${NAME} in every scalar value under n. A plain scalar is
// re-resolved after expansion so that "${N}" can stand for a number.
func (p *parser) expand(path string, n *yaml.Node) bool {
	ok := true
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") || n.ShortTag() != "!!str" {
			return true
		}
		s, err := expandEnv(n.Value, p.env)
		if err != nil {
			p.fail(path, n.Line, "%s", err.Error())
			return false
		}
		n.Value = s
		if n.Style == 0 {
			n.Tag = ""
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			ok = p.expand(join(path, n.Content[i-1].Value), n.Content[i]) && ok
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			ok = p.expand(path+"["+strconv.Itoa(i)+"]", c) && ok
		}
	case yaml.AliasNode:
		ok = p.expand(path, n.Alias)
	}
	return ok
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandEnv replaces ${NAME} with the variable's value; "$${" stands for a
// literal "${". An unset variable is an error.
func expandEnv(s string, env lookupFunc) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", s[i:])
		}
		name := s[i+2 : i+end]
		if !envName.MatchString(name) {
			return "", fmt.Errorf("bad environment variable name %q", name)
		}
		val, ok := env(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(val)
		s = s[i+end+1:]
	}
}

// yamlFields maps the yaml keys of struct t to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
	}
	return m
}

// suggest returns the known key closest to key when it is a likely typo.
func suggest(key string, fields map[string]int) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editDistance(key, k); d < bestD || (d == bestD && best != "" && k < best) {
			best, bestD = k, d
		}
	}
	if bestD > 2 || bestD >= len(key) {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours cost 1.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
