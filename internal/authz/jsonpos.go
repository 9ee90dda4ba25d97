package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// node is one JSON value with where it starts in the source, so that a
// policy error can name the line and column of the offending value.
type node struct {
	off    int64
	kind   byte // '{', '[', 's' string, 'o' other scalar
	str    string
	scalar any
	keys   []string // object members in source order
	fields map[string]*node
	keyOff map[string]int64
	items  []*node
}

// parseTree decodes src into a tree of nodes with their source offsets.
// Duplicate object keys are refused: IAM would keep only one of them
// silently, which hides a mistake.
func parseTree(src []byte) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	n, err := readNode(d, src)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, &SyntaxError{Offset: d.InputOffset(), Msg: "unexpected data after the policy document"}
	}
	return n, nil
}

// start returns the offset where the next token begins: InputOffset points
// just past the previous token, before any whitespace and separators.
func start(d *json.Decoder, src []byte) int64 {
	off := d.InputOffset()
	for off < int64(len(src)) {
		switch src[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func readNode(d *json.Decoder, src []byte) (*node, error) {
	off := start(d, src)
	tok, err := d.Token()
	if err != nil {
		return nil, syntaxError(d, src, off, err)
	}
	n := &node{off: off}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.kind = '{'
			n.fields = map[string]*node{}
			n.keyOff = map[string]int64{}
			for d.More() {
				koff := start(d, src)
				kt, err := d.Token()
				if err != nil {
					return nil, syntaxError(d, src, koff, err)
				}
				k, _ := kt.(string)
				if _, dup := n.fields[k]; dup {
					return nil, &SyntaxError{Offset: koff, Msg: fmt.Sprintf("duplicate key %q", k)}
				}
				v, err := readNode(d, src)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.fields[k] = v
				n.keyOff[k] = koff
			}
		case '[':
			n.kind = '['
			for d.More() {
				v, err := readNode(d, src)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return nil, syntaxError(d, src, d.InputOffset(), err)
		}
	case string:
		n.kind = 's'
		n.str = t
	default:
		n.kind = 'o'
		n.scalar = t
	}
	return n, nil
}

func syntaxError(d *json.Decoder, src []byte, off int64, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &SyntaxError{Offset: int64(len(src)), Msg: "unexpected end of the policy document"}
	}
	return &SyntaxError{Offset: off, Msg: err.Error()}
}

// SyntaxError is a policy document that is not JSON.
type SyntaxError struct {
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(src []byte, off int64) (int, int) {
	if off > int64(len(src)) {
		off = int64(len(src))
	}
	line, col := 1, 1
	for _, c := range src[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func kindName(n *node) string {
	switch n.kind {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 's':
		return "a string"
	}
	switch n.scalar.(type) {
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "null"
}
