package action

import (
	"strings"
	"unicode"

	"github.com/ohler55/ojg/jp"
)

// iamActionFor names the IAM action behind an SSM Service/Api pair.
// Interim: internal/awsservice owns the real table (elbv2 →
// elasticloadbalancing and the like); this stands in until it lands.
func iamActionFor(service, api string) (string, bool) {
	service = strings.ToLower(strings.TrimSpace(service))
	if service == "" || api == "" {
		return "", false
	}
	return service + ":" + pascal(api), true
}

// pascal turns boto3's snake_case and camelCase names into PascalCase.
func pascal(api string) string {
	var b strings.Builder
	up := true
	for _, r := range api {
		if r == '_' || r == '-' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

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
