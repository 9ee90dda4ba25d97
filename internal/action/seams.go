package action

import (
	"strings"

	"github.com/ohler55/ojg/jp"
)

// selectPath runs an SSM selector against a response. Interim: the
// template package owns selectors; this stands in until it lands.
func selectPath(sel string, doc any) (any, bool, error) {
	x, err := jp.ParseString(sel)
	if err != nil {
		return nil, false, err
	}
	got := x.Get(doc)
	if strings.Contains(sel, "..") || strings.Contains(sel, "*") || strings.Contains(sel, "?(") {
		return got, true, nil
	}
	if len(got) == 0 {
		return nil, false, nil
	}
	return got[0], true, nil
}
