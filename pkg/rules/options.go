package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Options are a channel's per-channel rule options after validation (defaults applied).
type Options struct {
	HumanAgentTag           bool     // messenger (default true), instagram (default false)
	MonthlyInitiatedLimit   int      // viber, default 10000
	CommercialTermsAccepted bool     // viber, default false
	WindowHours             int      // custom only, default 0 = no window
	AfterWindow             Decision // custom only: TemplateRequired or Blocked (default Blocked)
}

// FieldError is one invalid rule option. Field is the JSON path, e.g. "rule_options.human_agent_tag".
type FieldError struct {
	Field   string
	Message string
}

// Error makes a FieldError usable as an error.
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

const fieldPrefix = "rule_options."

// DefaultOptions returns the options of type t when none are given.
func DefaultOptions(t ChannelType) Options {
	return Options{
		HumanAgentTag:         t == Messenger,
		MonthlyInitiatedLimit: DefaultMonthlyInitiatedLimit,
		AfterWindow:           Blocked,
	}
}

// ParseOptions validates raw JSON-decoded options for a type and applies the defaults. Unknown keys,
// options of another type, wrong JSON types, non-integer, negative or too large numbers and values
// outside an enum are FieldErrors, sorted by field; with any error the Options are the zero value.
// A nil or empty map gives DefaultOptions(t). An unknown type is a FieldError on "type".
// Numbers may arrive as float64 (encoding/json), json.Number or Go integers (Options.Map).
func ParseOptions(t ChannelType, raw map[string]any) (Options, []FieldError) {
	rule, ok := lookup(t)
	if !ok {
		return Options{}, []FieldError{{Field: "type", Message: fmt.Sprintf("unknown channel type %q", string(t))}}
	}
	opts := DefaultOptions(t)
	var errs []FieldError
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		fail := func(format string, a ...any) {
			errs = append(errs, FieldError{Field: fieldPrefix + name, Message: fmt.Sprintf(format, a...)})
		}
		i := slices.IndexFunc(rule.Options, func(s OptionSpec) bool { return s.Name == name })
		if i < 0 {
			if owners := typesWithOption(name); len(owners) > 0 {
				fail("%s is not an option of %s channels (only of %s)", name, t, strings.Join(owners, ", "))
			} else {
				fail("unknown option")
			}
			continue
		}
		v := raw[name]
		switch spec := rule.Options[i]; spec.Kind {
		case "bool":
			b, ok := v.(bool)
			if !ok {
				fail("must be a boolean, not %s", jsonType(v))
				continue
			}
			opts.setBool(name, b)
		case "int":
			lo, hi := intRange(name)
			n, msg := toInt(v, lo, hi)
			if msg != "" {
				fail("%s", msg)
				continue
			}
			opts.setInt(name, n)
		case "enum":
			s, ok := v.(string)
			if !ok {
				fail("must be a string, not %s", jsonType(v))
				continue
			}
			if !slices.Contains(spec.Enum, s) {
				fail("must be one of %s", quoteAll(spec.Enum))
				continue
			}
			opts.setEnum(name, s)
		}
	}
	if len(errs) > 0 {
		return Options{}, errs
	}
	return opts, nil
}

// Map returns the options of type t as a map for storing and serving: every option of the type,
// with its value or default, and no key of another type. Types without options give an empty map.
func (o Options) Map(t ChannelType) map[string]any {
	m := map[string]any{}
	for _, spec := range Lookup(t).Options {
		switch spec.Name {
		case OptionHumanAgentTag:
			m[spec.Name] = o.HumanAgentTag
		case OptionMonthlyInitiatedLimit:
			m[spec.Name] = o.MonthlyInitiatedLimit
		case OptionCommercialTermsAccepted:
			m[spec.Name] = o.CommercialTermsAccepted
		case OptionWindowHours:
			m[spec.Name] = o.WindowHours
		case OptionAfterWindow:
			m[spec.Name] = string(o.afterWindow())
		}
	}
	return m
}

// afterWindow is the custom after-window decision; anything but TemplateRequired fails closed.
func (o Options) afterWindow() Decision {
	if o.AfterWindow == TemplateRequired {
		return TemplateRequired
	}
	return Blocked
}

func (o *Options) setBool(name string, b bool) {
	switch name {
	case OptionHumanAgentTag:
		o.HumanAgentTag = b
	case OptionCommercialTermsAccepted:
		o.CommercialTermsAccepted = b
	}
}

func (o *Options) setInt(name string, n int) {
	switch name {
	case OptionMonthlyInitiatedLimit:
		o.MonthlyInitiatedLimit = n
	case OptionWindowHours:
		o.WindowHours = n
	}
}

func (o *Options) setEnum(name, s string) {
	if name == OptionAfterWindow {
		o.AfterWindow = Decision(s)
	}
}

func intRange(name string) (lo, hi int) {
	switch name {
	case OptionMonthlyInitiatedLimit:
		return 0, MaxMonthlyInitiatedLimit
	case OptionWindowHours:
		return 0, MaxWindowHours
	}
	return 0, 0
}

// toInt accepts a whole number within [lo, hi]; msg says why v is not one.
func toInt(v any, lo, hi int) (n int, msg string) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		p, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, "must be a number"
		}
		f = p
	default:
		return 0, "must be an integer, not " + jsonType(v)
	}
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f):
		return 0, "must be a whole number"
	case f < float64(lo):
		if lo == 0 {
			return 0, "must not be negative"
		}
		return 0, fmt.Sprintf("must be at least %d", lo)
	case f > float64(hi):
		return 0, fmt.Sprintf("must be at most %d", hi)
	}
	return int(f), ""
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case float64, float32, int, int32, int64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func typesWithOption(name string) []string {
	var owners []string
	for _, r := range Table() {
		for _, s := range r.Options {
			if s.Name == name {
				owners = append(owners, string(r.Type))
			}
		}
	}
	return owners
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
