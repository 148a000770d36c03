package main

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/orderapi/orderapi/internal/adapters/ratelimit"
	"github.com/orderapi/orderapi/internal/domain/order"
)

// A setting is one environment variable: the commands that read it, what
// orderapi help says of it, and how its value is read into a config.
type setting struct {
	name string
	cmds []string
	doc  string
	value
}

// A value reads a variable into a field of the config being loaded.
type value struct {
	// def is the default as help shows it; "" for none.
	def string
	// set parses v, "" when the variable is unset, into the field. Its
	// errors name the variable (name) and what it wants.
	set func(name, v string) error
}

// shown is v with help showing def as its default.
func (v value) shown(def string) value {
	v.def = def
	return v
}

// text is a string, def when unset.
func text(p *string, def string) value {
	return value{def: def, set: func(_, v string) error {
		*p = cmp.Or(v, def)
		return nil
	}}
}

// oneOf is one of words, the first when unset; want says what else is
// refused, as the error does.
func oneOf(p *string, want string, words ...string) value {
	return value{def: words[0], set: func(name, v string) error {
		v = cmp.Or(v, words[0])
		for _, w := range words {
			if v == w {
				*p = v
				return nil
			}
		}
		return fmt.Errorf("%s %q: %s", name, v, want)
	}}
}

// positiveDuration is a duration above zero, such as the example says;
// def when unset.
func positiveDuration(p *time.Duration, def time.Duration, example string) value {
	return value{def: shortDuration(def), set: func(name, v string) error {
		if v == "" {
			*p = def
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s %q: want a positive duration such as %s", name, v, example)
		}
		*p = d
		return nil
	}}
}

// duration is a duration, 0 or more, such as the example says; def when
// unset.
func duration(p *time.Duration, def time.Duration, example string) value {
	return value{def: shortDuration(def), set: func(name, v string) error {
		if v == "" {
			*p = def
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%s %q: want a duration such as %s", name, v, example)
		}
		*p = d
		return nil
	}}
}

// durationUpTo is a duration from 0 to most, such as the example says;
// def when unset.
func durationUpTo(p *time.Duration, def, most time.Duration, example string) value {
	v := duration(p, def, example)
	set := v.set
	v.set = func(name, s string) error {
		if err := set(name, s); err != nil {
			return err
		}
		if *p > most {
			return fmt.Errorf("%s %q: want at most %s, such as %s", name, s, shortDuration(most), example)
		}
		return nil
	}
	return v
}

// count is a whole number, least or more, as want says; def when unset.
func count(p *int, def, least int, want string) value {
	return value{def: strconv.Itoa(def), set: func(name, v string) error {
		if v == "" {
			*p = def
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < least {
			return fmt.Errorf("%s %q: want %s", name, v, want)
		}
		*p = n
		return nil
	}}
}

// rate is a caller's rate as ratelimit.ParseRate reads it; def when unset.
func rate(p *ratelimit.Rate, def ratelimit.Rate) value {
	return value{def: def.String(), set: func(name, v string) error {
		if v == "" {
			*p = def
			return nil
		}
		r, err := ratelimit.ParseRate(v)
		if err != nil {
			return fmt.Errorf("%s %q: %w", name, v, err)
		}
		*p = r
		return nil
	}}
}

// currency is an ISO 4217 code, def when unset.
func currency(p *order.Currency, def string) value {
	return value{def: def, set: func(name, v string) error {
		v = cmp.Or(v, def)
		c, err := order.ParseCurrency(v)
		if err != nil {
			return fmt.Errorf("%s %q: %w", name, v, err)
		}
		*p = c
		return nil
	}}
}

// list is comma-separated items, blanks around them dropped; none when
// unset.
func list(p *[]string) value {
	return value{set: func(_, v string) error {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				*p = append(*p, item)
			}
		}
		return nil
	}}
}

// shortDuration writes d as one would type it: 24h, not 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// helpIndent is where help writes what a variable does, past its name.
const helpIndent = 29

// writeSettings writes, for help, each setting: what it does, wrapped to
// 80 columns, then its default and the commands that read it.
func writeSettings(w io.Writer, settings []setting) {
	indent := strings.Repeat(" ", helpIndent)
	for _, s := range settings {
		line := fmt.Sprintf("  %-*s", helpIndent-2, s.name)
		if len(s.name) > helpIndent-3 {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line = indent
		}
		for i, word := range strings.Fields(s.doc) {
			if i > 0 && len(line)+1+len(word) > 80 {
				fmt.Fprintln(w, line)
				line = indent + word
				continue
			}
			if i > 0 {
				line += " "
			}
			line += word
		}
		fmt.Fprintln(w, line)
		by := "read by " + strings.Join(s.cmds, ", ")
		if len(s.cmds) == len(commands) {
			by = "read by every command"
		}
		switch def := "default " + s.def; {
		case s.def == "":
			fmt.Fprintln(w, indent+by)
		case len(indent+def+"; "+by) > 80:
			fmt.Fprintln(w, indent+def)
			fmt.Fprintln(w, indent+by)
		default:
			fmt.Fprintln(w, indent+def+"; "+by)
		}
	}
}
