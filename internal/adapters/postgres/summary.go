package postgres

import (
	"strings"
	"sync"
	"sync/atomic"
)

// A summary is what a statement does, as OpenTelemetry's database
// conventions name a span: its operation and the table it does it to,
// "INSERT events". The statement's values never appear in it.
type summary struct {
	operation, table string
}

func (s summary) String() string {
	if s.table == "" {
		return s.operation
	}
	return s.operation + " " + s.table
}

// summarize reads what a statement does: the first data-modifying
// operation anywhere in it (a statement whose CTEs insert is an insert)
// and its target; else a query's first table after FROM; else its first
// keyword. Literals, quoted text and comments are skipped, never read.
func summarize(sql string) summary {
	words := sqlWords(sql)
	for i, w := range words {
		var target string
		switch w.upper {
		case "INSERT", "MERGE":
			target = targetAfter(words[i+1:], "INTO")
		case "UPDATE":
			target = targetAfter(words[i+1:], "")
		case "DELETE":
			target = targetAfter(words[i+1:], "FROM")
		default:
			continue
		}
		// ON CONFLICT ... DO UPDATE is part of an insert, found first.
		return summary{operation: w.upper, table: target}
	}
	if len(words) == 0 {
		return summary{operation: "UNKNOWN"}
	}
	op := words[0].upper
	if op != "WITH" && op != "SELECT" {
		return summary{operation: op}
	}
	// A query reads the table its outermost FROM names, past the names
	// its WITH gives subqueries; else the first any FROM names.
	ctes := map[string]bool{}
	for i, w := range words {
		if op == "WITH" && w.depth == 0 && w.name && i+2 < len(words) && words[i+1].upper == "AS" {
			ctes[w.upper] = true
		}
	}
	for _, outer := range []bool{true, false} {
		for i, w := range words {
			if w.upper != "FROM" || outer && w.depth > 0 {
				continue
			}
			if t := tableAt(words[i+1:]); t != "" && !ctes[strings.ToUpper(t)] {
				return summary{operation: "SELECT", table: t}
			}
		}
	}
	return summary{operation: "SELECT"}
}

// targetAfter is the table a data-modifying operation changes: the name
// after the keyword that opens the words (none for UPDATE), past ONLY. A
// column list may follow it: INSERT INTO events (event_id, ...).
func targetAfter(words []sqlWord, keyword string) string {
	if keyword != "" {
		if len(words) == 0 || words[0].upper != keyword {
			return ""
		}
		words = words[1:]
	}
	if len(words) > 0 && words[0].upper == "ONLY" {
		words = words[1:]
	}
	if len(words) == 0 || !words[0].name {
		return ""
	}
	return words[0].text
}

// tableAt is the table a query reads, the words after its FROM; none when
// they start with a subquery or a function call (FROM unnest(...)).
func tableAt(words []sqlWord) string {
	if len(words) > 0 && words[0].upper == "ONLY" {
		words = words[1:]
	}
	if len(words) == 0 || !words[0].name || words[0].call {
		return ""
	}
	return words[0].text
}

// A sqlWord is a keyword or a name of a statement.
type sqlWord struct {
	text, upper string
	// name: it could name a table (not a subquery's parenthesis); call:
	// an opening parenthesis follows it.
	name, call bool
	// depth is how many parentheses it is in.
	depth int
}

// sqlWords splits a statement into its words, skipping whitespace,
// comments, string and dollar-quoted literals, parameters and
// punctuation. A parenthesis is kept as a word that names nothing, so
// that FROM (SELECT ...) has no table.
func sqlWords(sql string) []sqlWord {
	var words []sqlWord
	depth := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				return words
			}
			i += end
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			i = skipBlockComment(sql, i)
		case c == '\'':
			i = skipQuoted(sql, i+1, '\'', false)
		case c == '"':
			end := skipQuoted(sql, i+1, '"', false)
			name := strings.ReplaceAll(sql[i+1:max(i+1, end-1)], `""`, `"`)
			// A quoted name is never a keyword.
			words = append(words, sqlWord{text: name, upper: `"` + name, name: true, depth: depth})
			i = end
		case c == '$' && i+1 < len(sql) && isDigit(sql[i+1]):
			for i++; i < len(sql) && isDigit(sql[i]); i++ {
			}
		case c == '$':
			i = skipDollarQuoted(sql, i)
		case c == '(':
			if n := len(words); n > 0 && words[n-1].name && isFunctionName(words[n-1].upper) {
				words[n-1].call = true
			}
			words = append(words, sqlWord{text: "(", upper: "(", depth: depth})
			depth++
			i++
		case c == ')':
			depth = max(0, depth-1)
			i++
		case isWordStart(c):
			start := i
			for i < len(sql) && isWordByte(sql[i]) {
				i++
			}
			// E'...', B'...' and the like are literals, not words.
			if i < len(sql) && sql[i] == '\'' && i-start == 1 {
				i = skipQuoted(sql, i+1, '\'', sql[start] == 'E' || sql[start] == 'e')
				continue
			}
			w := sql[start:i]
			words = append(words, sqlWord{text: w, upper: strings.ToUpper(w), name: true, depth: depth})
		default:
			i++
		}
	}
	return words
}

// isFunctionName: a word a parenthesis follows is a call unless it is a
// keyword that opens a list or a subquery.
func isFunctionName(upper string) bool {
	switch upper {
	case "IN", "VALUES", "AS", "ON", "USING", "EXISTS", "ANY", "ALL", "INTO", "TABLE", "WHERE", "AND", "OR", "NOT", "FROM", "JOIN", "SELECT":
		return false
	}
	return true
}

func skipBlockComment(sql string, i int) int {
	depth := 0
	for i < len(sql) {
		switch {
		case strings.HasPrefix(sql[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(sql[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// skipQuoted returns the index past the closing quote of text that starts
// at i; a doubled quote is one character of it, and in an escape string
// (E'...', escapes set) so is a backslash and the character after it.
func skipQuoted(sql string, i int, quote byte, escapes bool) int {
	for i < len(sql) {
		switch sql[i] {
		case '\\':
			if !escapes {
				i++
				continue
			}
			i += 2
		case quote:
			if i+1 < len(sql) && sql[i+1] == quote {
				i += 2
				continue
			}
			return i + 1
		default:
			i++
		}
	}
	return i
}

// skipDollarQuoted returns the index past $tag$...$tag$ starting at i, or
// past the $ when it opens none.
func skipDollarQuoted(sql string, i int) int {
	end := strings.IndexByte(sql[i+1:], '$')
	if end < 0 {
		return i + 1
	}
	tag := sql[i : i+end+2]
	for _, c := range []byte(tag[1 : len(tag)-1]) {
		if !isWordByte(c) {
			return i + 1
		}
	}
	close := strings.Index(sql[i+len(tag):], tag)
	if close < 0 {
		return len(sql)
	}
	return i + len(tag) + close + len(tag)
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isWordStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isWordByte(c byte) bool  { return isWordStart(c) || isDigit(c) || c == '.' || c == '$' }

// maxSummaries bounds the summaries kept: the service's statements are
// constants, far fewer; text built at run time beyond it is summarized
// each time.
const maxSummaries = 1000

// summaries remembers each statement's summary, read on every traced
// statement.
type summaries struct {
	m sync.Map
	n atomic.Int64
}

func (s *summaries) of(sql string) summary {
	if v, ok := s.m.Load(sql); ok {
		return v.(summary)
	}
	sum := summarize(sql)
	if s.n.Add(1) <= maxSummaries {
		s.m.Store(sql, sum)
	}
	return sum
}
