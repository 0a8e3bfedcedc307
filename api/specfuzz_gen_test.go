package api_test

import (
	"fmt"
	"maps"
	"math"
	"math/rand"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/nyaruka/phonenumbers"

	"github.com/switchboard/switchboard/openapi"
)

// The spec fuzzer's generator: values drawn from the committed spec's schemas alone, as
// Schemathesis draws them. valid honours type, format, enum, pattern, lengths, ranges, item
// counts, required and optional members, nullable, additionalProperties, allOf/oneOf/anyOf and not;
// mutations lists values that break exactly one of those constraints. The only knowledge not
// in the spec is fixtures: ids of real resources, for uuid-valued names (fuzzGen.ids); and
// the formats the spec names beyond JSON Schema's (phone), which a fuzzer is taught, as
// Schemathesis is given a strategy for a custom format.

// fuzzGen draws values; it is deterministic for a seed.
type fuzzGen struct {
	r *rand.Rand
	// ids answers a real id for a uuid-valued field or parameter of this name, when the
	// fixtures have one; it is used four times in five, a random UUID the fifth.
	ids func(r *rand.Rand, name string) (string, bool)
	// madeUp, while a request is drawn, collects the names whose id was drawn at random.
	madeUp map[string]bool
}

// maxDrawnLength caps a drawn string's length when the schema allows longer: a boundary
// value (maxLength itself) is still drawn, one time in eight.
const maxDrawnLength = 40

// valid draws a value the schema accepts. name is the property or parameter name (for ids).
func (g *fuzzGen) valid(s *openapi3.Schema, name string, depth int) any {
	if s.Nullable && g.r.Intn(8) == 0 {
		return nil
	}
	if s.Not != nil {
		// A value of the schema the not-schema refuses: drawn until one is (a member that
		// may only be null says {type: string, nullable: true, not: {type: string}}).
		t := *s
		t.Not = nil
		for range 1000 {
			if v := g.valid(&t, name, depth); s.Not.Value.VisitJSON(v) != nil {
				return v
			}
		}
		panic(fmt.Sprintf("%s: no value drawn outside its not-schema", name))
	}
	switch {
	case len(s.AllOf) > 0:
		return g.valid(mergeAllOf(s), name, depth)
	case len(s.OneOf) > 0:
		return g.valid(s.OneOf[g.r.Intn(len(s.OneOf))].Value, name, depth)
	case len(s.AnyOf) > 0:
		return g.valid(s.AnyOf[g.r.Intn(len(s.AnyOf))].Value, name, depth)
	case len(s.Enum) > 0:
		return s.Enum[g.r.Intn(len(s.Enum))]
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		return g.str(s, name)
	case s.Type.Is(openapi3.TypeInteger):
		return g.integer(s)
	case s.Type.Is(openapi3.TypeNumber):
		return g.number(s)
	case s.Type.Is(openapi3.TypeBoolean):
		return g.r.Intn(2) == 0
	case s.Type.Is(openapi3.TypeArray):
		return g.array(s, name, depth)
	case s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0:
		return g.object(s, depth)
	}
	return g.anyJSON(depth, s.Nullable)
}

// mergeAllOf folds allOf members into one schema: properties, required, and the wrapper's
// own nullable (swag's form of a nullable $ref is {allOf: [$ref], nullable: true}).
func mergeAllOf(s *openapi3.Schema) *openapi3.Schema {
	m := *s
	m.AllOf = nil
	if len(s.AllOf) == 1 && len(s.Properties) == 0 {
		m = *s.AllOf[0].Value
		m.Nullable = s.Nullable || m.Nullable
		return &m
	}
	m.Properties = openapi3.Schemas{}
	maps.Copy(m.Properties, s.Properties)
	for _, part := range s.AllOf {
		p := part.Value
		maps.Copy(m.Properties, p.Properties)
		m.Required = append(m.Required, p.Required...)
		if m.Type == nil {
			m.Type = p.Type
		}
		if p.AdditionalProperties.Has != nil {
			m.AdditionalProperties = p.AdditionalProperties
		}
	}
	return &m
}

func (g *fuzzGen) str(s *openapi3.Schema, name string) string {
	lo, hi := 0, maxDrawnLength
	if s.MinLength > 0 {
		lo = int(s.MinLength)
	}
	if s.MaxLength != nil {
		hi = int(*s.MaxLength)
	}
	if s.Format == openapi.FormatPhone {
		return g.phone()
	}
	if s.Pattern != "" {
		// The pattern says more than a format (a uri that must be http(s)).
		for range 100 {
			v := g.fromPattern(s.Pattern)
			if n := utf8.RuneCountInString(v); n >= lo && n <= hi {
				return v
			}
		}
		panic(fmt.Sprintf("pattern %q: no value of %d to %d characters drawn", s.Pattern, lo, hi))
	}
	switch s.Format {
	case "uuid":
		id, ok := g.ids(g.r, name)
		if ok && g.r.Intn(5) > 0 {
			return id
		}
		// A uuid drawn at random refers to nothing, whether or not fixtures have one of its kind.
		if g.madeUp != nil {
			g.madeUp[name] = true
		}
		return g.uuid()
	case "email":
		return g.email(s)
	case "date-time":
		if r, ok := s.Extensions["x-from-now"]; ok {
			return g.fromNow(r)
		}
		return g.dateTime()
	case "date":
		return g.dateTime()[:10]
	case "uri":
		return g.uri()
	}
	n := lo
	switch k := g.r.Intn(8); {
	case k == 0: // the lower bound
	case k == 1 && hi > lo: // the upper bound
		n = hi
	default:
		n = lo + g.r.Intn(min(hi, lo+maxDrawnLength)-lo+1)
	}
	// A long boundary value is drawn from ASCII, so it stays within the body limit.
	return g.text(n, n > 1000)
}

// text draws n characters: mostly ASCII letters, digits, punctuation and spaces, with
// accented letters, other scripts, emoji, control characters, combining marks and other
// odd code points. Never U+0000, which PostgreSQL cannot store in text: the server refuses it
// (422 invalid_character) and the spec cannot say so (Schemathesis: --generation-allow-x00=false).
func (g *fuzzGen) text(n int, ascii bool) string {
	var b strings.Builder
	for range n {
		b.WriteRune(g.char(ascii))
	}
	return b.String()
}

var oddRunes = []rune{'\t', '\n', '\r', '\x01', '\x1f', '\x7f', '\u0085', '\u00a0', '\u200b', '\u200e', '\u2028', '\u0301', '\ufeff', '\ufffd', '\U0001F600', '\U00010000', '\U0010FFFD'}

func (g *fuzzGen) char(ascii bool) rune {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	const punct = " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	k := g.r.Intn(100)
	if ascii {
		k %= 75
	}
	switch {
	case k < 60:
		return rune(letters[g.r.Intn(len(letters))])
	case k < 75:
		return rune(punct[g.r.Intn(len(punct))])
	case k < 85:
		return rune(0xC0 + g.r.Intn(0x17F-0xC0))
	case k < 92:
		return []rune("дЖξΩשلक中文日本語한국")[g.r.Intn(14)]
	default:
		return oddRunes[g.r.Intn(len(oddRunes))]
	}
}

func (g *fuzzGen) uuid() string {
	b := make([]byte, 16)
	g.r.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// email draws an RFC 5321 address: an atext local part (dots between atoms) at a domain.
func (g *fuzzGen) email(s *openapi3.Schema) string {
	const atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
	const ldh = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for i := range 1 + g.r.Intn(2) {
		if i > 0 {
			b.WriteByte('.')
		}
		for range 1 + g.r.Intn(10) {
			if g.r.Intn(5) == 0 {
				b.WriteByte(atext[g.r.Intn(len(atext))])
			} else {
				b.WriteByte(ldh[g.r.Intn(26)])
			}
		}
	}
	b.WriteByte('@')
	for range 1 + g.r.Intn(2) {
		for range 1 + g.r.Intn(10) {
			b.WriteByte(ldh[g.r.Intn(len(ldh))])
		}
		b.WriteByte('.')
	}
	b.WriteString([]string{"com", "org", "example", "io", "de"}[g.r.Intn(5)])
	return b.String()
}

// dateTime draws an RFC 3339 time from 1970 to 2100, in UTC or with an offset, at times with
// fractional seconds.
func (g *fuzzGen) dateTime() string {
	t := time.Unix(g.r.Int63n(4102444800), 0).UTC()
	if g.r.Intn(3) == 0 {
		t = t.Add(time.Duration(g.r.Intn(1e9)))
	}
	if g.r.Intn(3) == 0 {
		t = t.In(time.FixedZone("", (g.r.Intn(27)-12)*3600))
	}
	return t.Format(time.RFC3339Nano)
}

// fromNow draws an instant in the range an x-from-now gives relative to now (cmd/specgen
// fixTimeRanges: exclusiveMinimum and maximum as ISO 8601 durations), a minute inside each
// bound so the time the request takes to arrive cannot move it out. Without a lower bound it
// draws from the last ten years.
func (g *fuzzGen) fromNow(v any) string {
	r, ok := v.(map[string]any)
	if !ok {
		panic(fmt.Sprintf("x-from-now %v is not an object", v))
	}
	lo, hi := -10*365*24*time.Hour, 100*365*24*time.Hour
	if d, ok := r["exclusiveMinimum"]; ok {
		lo = isoDuration(d) + time.Minute
	}
	if d, ok := r["maximum"]; ok {
		hi = isoDuration(d) - time.Minute
	}
	t := time.Now().Add(lo + time.Duration(g.r.Int63n(int64(hi-lo))))
	if g.r.Intn(3) == 0 {
		t = t.In(time.FixedZone("", (g.r.Intn(27)-12)*3600))
	}
	return t.Format(time.RFC3339Nano)
}

// isoDuration reads the durations specgen writes: PT0S and whole days (P30D).
func isoDuration(v any) time.Duration {
	s, _ := v.(string)
	if s == "PT0S" {
		return 0
	}
	days, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(s, "P"), "D"))
	if err != nil || !strings.HasPrefix(s, "P") || !strings.HasSuffix(s, "D") {
		panic(fmt.Sprintf("x-from-now duration %v is neither PT0S nor whole days", v))
	}
	return time.Duration(days) * 24 * time.Hour
}

// phone draws a number of format phone, as a fuzzer is taught a format the spec names: a
// possible number of a country libphonenumber knows (its example number), written
// international (+44 7400 123456), as E.164, or, for fuzzRegion, the workspace's
// default_phone_region, national ((201) 555-0123).
func (g *fuzzGen) phone() string {
	regions := slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions()))
	for {
		region := regions[g.r.Intn(len(regions))]
		if g.r.Intn(4) == 0 {
			region = fuzzRegion
		}
		num := phonenumbers.GetExampleNumber(region)
		if num == nil {
			continue
		}
		switch k := g.r.Intn(3); {
		case k == 0:
			return phonenumbers.Format(num, phonenumbers.E164)
		case k == 1 && region == fuzzRegion:
			return phonenumbers.Format(num, phonenumbers.NATIONAL)
		default:
			return phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
		}
	}
}

// fuzzRegion is the fuzz workspace's default_phone_region.
const fuzzRegion = "US"

func (g *fuzzGen) uri() string {
	scheme := []string{"https", "http", "urn", "mailto", "ftp"}[g.r.Intn(5)]
	host := strings.ToLower(g.word(1+g.r.Intn(8))) + ".example"
	switch scheme {
	case "urn":
		return "urn:" + g.word(3) + ":" + g.word(5)
	case "mailto":
		return "mailto:" + g.word(4) + "@" + host
	}
	return scheme + "://" + host + "/" + g.word(g.r.Intn(10))
}

func (g *fuzzGen) word(n int) string {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alnum[g.r.Intn(len(alnum))]
	}
	return string(b)
}

// fromPattern draws a string that matches the regular expression (ECMA 262 subset that Go's
// syntax reads: classes, repeats, alternation, groups, anchors). A pattern is not anchored
// unless it says so: without ^ (or $) the match may have any text before (or after) it.
func (g *fuzzGen) fromPattern(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		panic(fmt.Sprintf("pattern %q: %v", pattern, err))
	}
	re = re.Simplify()
	var b strings.Builder
	if !anchored(re, syntax.OpBeginText, 0) && g.r.Intn(2) == 0 {
		b.WriteString(g.text(g.r.Intn(10), false))
	}
	g.regexp(&b, re)
	if !anchored(re, syntax.OpEndText, -1) && g.r.Intn(2) == 0 {
		b.WriteString(g.text(g.r.Intn(10), false))
	}
	return b.String()
}

// anchored reports whether re starts (at 0) or ends (at -1) with the anchor op.
func anchored(re *syntax.Regexp, op syntax.Op, at int) bool {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op == op {
		return true
	}
	if re.Op != syntax.OpConcat || len(re.Sub) == 0 {
		return false
	}
	if at < 0 {
		return anchored(re.Sub[len(re.Sub)-1], op, at)
	}
	return anchored(re.Sub[0], op, at)
}

func (g *fuzzGen) regexp(b *strings.Builder, re *syntax.Regexp) {
	repeat := func(lo, hi int) {
		if hi < 0 {
			hi = lo + 8
		}
		for range lo + g.r.Intn(hi-lo+1) {
			g.regexp(b, re.Sub[0])
		}
	}
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		// Pick a range, then a rune in it; printable runes only.
		for range 100 {
			i := g.r.Intn(len(re.Rune) / 2)
			lo, hi := re.Rune[2*i], min(re.Rune[2*i+1], 0x2FFF)
			if hi < lo {
				continue
			}
			r := lo + rune(g.r.Intn(int(hi-lo)+1))
			if r != 0 && unicode.IsPrint(r) {
				b.WriteRune(r)
				return
			}
		}
		panic("no printable rune in a character class")
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteRune(g.char(false))
	case syntax.OpCapture:
		g.regexp(b, re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.regexp(b, s)
		}
	case syntax.OpAlternate:
		g.regexp(b, re.Sub[g.r.Intn(len(re.Sub))])
	case syntax.OpStar:
		repeat(0, -1)
	case syntax.OpPlus:
		repeat(1, -1)
	case syntax.OpQuest:
		repeat(0, 1)
	case syntax.OpRepeat:
		repeat(re.Min, re.Max)
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
	default:
		panic(fmt.Sprintf("regexp op %v not drawn", re.Op))
	}
}

func bounds(s *openapi3.Schema, lo, hi float64) (float64, float64) {
	if s.Min != nil {
		lo = *s.Min
		if b := s.ExclusiveMin.Bool; b != nil && *b {
			lo++
		}
	}
	if s.Max != nil {
		hi = *s.Max
		if b := s.ExclusiveMax.Bool; b != nil && *b {
			hi--
		}
	}
	return lo, hi
}

func (g *fuzzGen) integer(s *openapi3.Schema) int64 {
	lo, hi := bounds(s, -1<<31, 1<<31)
	switch g.r.Intn(6) {
	case 0:
		return int64(lo)
	case 1:
		return int64(hi)
	}
	return int64(lo) + g.r.Int63n(int64(hi-lo)+1)
}

func (g *fuzzGen) number(s *openapi3.Schema) float64 {
	lo, hi := bounds(s, -1e9, 1e9)
	return lo + g.r.Float64()*(hi-lo)
}

func (g *fuzzGen) array(s *openapi3.Schema, name string, depth int) []any {
	lo, hi := int(s.MinItems), 4
	if s.MaxItems != nil {
		hi = int(*s.MaxItems)
	}
	hi = max(lo, min(hi, lo+4))
	n := lo + g.r.Intn(hi-lo+1)
	out := make([]any, 0, n)
	for range 10 * n {
		if len(out) == n {
			break
		}
		v := g.valid(s.Items.Value, name, depth+1)
		if s.UniqueItems && slices.ContainsFunc(out, func(o any) bool { return fmt.Sprint(o) == fmt.Sprint(v) }) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// object draws the required members, each optional one half the time, and, where
// additionalProperties allows, a few members of its own.
func (g *fuzzGen) object(s *openapi3.Schema, depth int) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		if slices.Contains(s.Required, k) || g.r.Intn(2) == 0 {
			out[k] = g.valid(s.Properties[k].Value, k, depth+1)
		}
	}
	ap := s.AdditionalProperties
	if ap.Has != nil && !*ap.Has {
		return out
	}
	extra := g.r.Intn(4)
	if len(s.Properties) > 0 {
		extra = g.r.Intn(2)
	}
	for range extra {
		k := g.text(1+g.r.Intn(12), false)
		if _, taken := s.Properties[k]; taken {
			continue
		}
		if ap.Schema != nil {
			out[k] = g.valid(ap.Schema.Value, k, depth+1)
		} else {
			out[k] = g.anyJSON(depth+1, false)
		}
	}
	return out
}

// anyJSON draws a value of any JSON type; objects and arrays only a few levels down. null
// says whether the value itself may be null; values inside it may always be (the spec
// declares nothing about them).
func (g *fuzzGen) anyJSON(depth int, null bool) any {
	k := g.r.Intn(7)
	if depth > 3 {
		k = g.r.Intn(5)
	}
	switch k {
	case 0:
		if null {
			return nil
		}
		return ""
	case 1:
		return g.r.Intn(2) == 0
	case 2:
		return g.r.Int63n(1<<40) - 1<<39
	case 3:
		return math.Round(g.r.NormFloat64()*1e6) / 1e3
	case 4:
		return g.text(g.r.Intn(20), false)
	case 5:
		out := make([]any, g.r.Intn(4))
		for i := range out {
			out[i] = g.anyJSON(depth+1, true)
		}
		return out
	}
	out := map[string]any{}
	for range g.r.Intn(4) {
		out[g.text(1+g.r.Intn(10), false)] = g.anyJSON(depth+1, true)
	}
	return out
}

// A mutation breaks one constraint of a schema: it names the constraint and gives the value.
type mutation struct {
	what  string
	value any
}

// mutations lists values that break exactly one constraint the schema declares about a
// single value (type, format, enum, length, range, item count, nullable). Constraints on an
// object's members are mutated by the caller, which knows the object (see bodyMutations).
func mutations(s *openapi3.Schema) []mutation {
	if len(s.AllOf) > 0 {
		s = mergeAllOf(s)
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		return unionMutations(s)
	}
	if s.Type == nil {
		return nil // any value
	}
	var out []mutation
	add := func(what string, v any) { out = append(out, mutation{what, v}) }
	if !s.Nullable {
		add("null where not nullable", nil)
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		add("a number for a string", 12345)
		add("an object for a string", map[string]any{"a": "b"})
		if len(s.Enum) > 0 {
			add("a value outside the enum", "zz_not_in_enum")
		}
		switch s.Format {
		case "uuid":
			add("a malformed uuid", "not-a-uuid")
			add("a uuid one digit short", "0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f5")
		case "email":
			add("an email without @", "no-at-sign.example.com")
		case "date-time":
			add("a date-time without time", "2026-11-29")
			add("a date-time out of range", "2026-13-45T25:61:00Z")
		case "uri":
			add("a relative uri", "no scheme here")
		case openapi.FormatPhone:
			add("a phone number of no country", "+999 123 4567")
			add("a phone number too short for its country", "+1 202 55")
		}
		if s.MaxLength != nil && *s.MaxLength < 30000 {
			add(fmt.Sprintf("maxLength %d + 1", *s.MaxLength), strings.Repeat("x", int(*s.MaxLength)+1))
		}
		if s.MinLength > 0 {
			add(fmt.Sprintf("minLength %d - 1", s.MinLength), strings.Repeat("x", int(s.MinLength)-1))
		}
		if s.Pattern != "" {
			add("a value outside the pattern", "\u00a7\u00a7 not matching \u00a7\u00a7")
		}
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		add("a string for a number", "twelve")
		if s.Type.Is(openapi3.TypeInteger) {
			add("a fraction for an integer", 1.5)
		}
		if s.Min != nil {
			add("below minimum", *s.Min-1)
		}
		if s.Max != nil {
			add("above maximum", *s.Max+1)
		}
	case s.Type.Is(openapi3.TypeBoolean):
		add("a string for a boolean", "yes")
	case s.Type.Is(openapi3.TypeArray):
		add("a string for an array", "x")
		if s.MinItems > 0 {
			add(fmt.Sprintf("minItems %d - 1", s.MinItems), []any{})
		}
		if s.MaxItems != nil {
			items := make([]any, *s.MaxItems+1)
			for i := range items {
				items[i] = exampleOf(s.Items.Value, i)
			}
			add(fmt.Sprintf("maxItems %d + 1", *s.MaxItems), items)
		}
		for _, m := range mutations(s.Items.Value) {
			add("an item: "+m.what, []any{m.value})
		}
	case s.Type.Is(openapi3.TypeObject):
		add("a string for an object", "x")
		add("an array for an object", []any{})
	}
	return out
}

// unionMutations breaks what every member of a oneOf or anyOf shares, their type (and null
// where none is nullable); what one member alone says, another may allow, and the members'
// own members are broken in their place (bodyMutations).
func unionMutations(s *openapi3.Schema) []mutation {
	var common *openapi3.Types
	nullable := s.Nullable
	for _, m := range append(slices.Clone(s.OneOf), s.AnyOf...) {
		v := m.Value
		if len(v.AllOf) > 0 {
			v = mergeAllOf(v)
		}
		if v.Type == nil || len(v.OneOf) > 0 || len(v.AnyOf) > 0 || common != nil && !slices.Equal(*common, *v.Type) {
			return nil
		}
		common, nullable = v.Type, nullable || v.Nullable
	}
	return mutations(&openapi3.Schema{Type: common, Nullable: nullable})
}

// exampleOf is a plain valid value of the schema, the i-th when it has several (for arrays
// that must grow past maxItems with distinct items).
func exampleOf(s *openapi3.Schema, i int) any {
	g := &fuzzGen{r: rand.New(rand.NewSource(int64(i))), ids: func(*rand.Rand, string) (string, bool) { return "", false }}
	return g.valid(s, "", 0)
}

// queryValue writes a drawn value as a query or header parameter's string.
func queryValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
