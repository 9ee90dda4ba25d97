// Command gen writes capstan's AWS model data from botocore's service models
// (the models boto3 and the aws CLI read, and so SSM's aws:executeAwsApi):
//
//   - internal/awsmodel/data/<service>.gz: one file per service, the
//     newest API version of its model with what calling it needs (metadata,
//     operations, shapes and their serialization attributes) and without
//     documentation, examples, constraints and enums;
//   - internal/awsservice/services.gz: the table of every service (boto3
//     name, IAM prefix, endpoint id, SDK package name, protocol, API
//     version, operation names).
//
// Run it with `go generate ./internal/awsmodel/` on a machine with botocore.
// The output depends only on botocore's data, so runs are reproducible.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Keys kept at each level of a botocore model; everything else
// (documentation, examples, min/max, patterns, enums, deprecation notes) is
// dropped.
var (
	metadataKeys  = keys("apiVersion endpointPrefix globalEndpoint jsonVersion protocol protocols serviceId signatureVersion signingName targetPrefix xmlNamespace awsQueryCompatible")
	operationKeys = keys("name http input output endpoint idempotent readonly authtype auth httpChecksumRequired httpChecksum unsignedPayload")
	shapeKeys     = keys("type members member key value required error exception union payload timestampFormat flattened locationName xmlNamespace streaming document event eventstream wrapper sparse")
	memberKeys    = keys("shape location locationName queryName flattened xmlAttribute xmlNamespace streaming idempotencyToken jsonvalue hostLabel timestampFormat eventpayload resultWrapper")
)

// iamPrefix gives the IAM service prefix where it is not the model's
// signing name. Source: the Service Authorization Reference ("Actions,
// resources, and condition keys for AWS services"), each service's page.
var iamPrefix = map[string]string{
	"cloudwatch":                    "cloudwatch", // signs as "monitoring"
	"docdb":                         "rds",
	"neptune":                       "rds",
	"efs":                           "elasticfilesystem",
	"emr":                           "elasticmapreduce",
	"resourcegroupstaggingapi":      "tag",
	"migration-hub-refactor-spaces": "refactor-spaces",
	"elb":                           "elasticloadbalancing",
	"elbv2":                         "elasticloadbalancing",
	"stepfunctions":                 "states",
	"iot-data":                      "iot",
	"iot-jobs-data":                 "iotjobsdata",
	"ses":                           "ses",
	"sesv2":                         "ses",
	"marketplace-entitlement":       "aws-marketplace",
	"sso-admin":                     "sso",
	"sso":                           "sso",
	"lex-runtime":                   "lex",
	"lexv2-runtime":                 "lex",
	"lexv2-models":                  "lex",
	"mediastore-data":               "mediastore",
	"sagemaker-runtime":             "sagemaker",
	"dynamodbstreams":               "dynamodb",
	"appconfigdata":                 "appconfig",
	"s3control":                     "s3",
	"application-autoscaling":       "application-autoscaling",
	"opensearch":                    "es",
	"es":                            "es",
	"timestream-query":              "timestream",
	"timestream-write":              "timestream",
	"kinesis-video-archived-media":  "kinesisvideo",
	"kinesis-video-media":           "kinesisvideo",
	"kinesis-video-signaling":       "kinesisvideo",
	"connect-contact-lens":          "connect",
	"bedrock-runtime":               "bedrock",
	"bedrock-agent-runtime":         "bedrock",
	"bedrock-agent":                 "bedrock",
}

// unions lists shapes that are unions (exactly one member set) though
// botocore's models do not mark them so; the SDKs treat them as unions.
var unions = map[string][]string{
	"dynamodb":        {"AttributeValue"},
	"dynamodbstreams": {"AttributeValue"},
}

// protocolOrder picks the protocol among those a model lists: the JSON
// protocols first (richest, and what moto serves for every such service),
// CBOR last.
var protocolOrder = []string{"json", "rest-json", "rest-xml", "query", "ec2", "smithy-rpc-v2-cbor"}

type tableEntry struct {
	Name, IAMPrefix, EndpointID, SDKPackage, Protocol, APIVersion string
	Operations                                                    []string
	HTTPMethod                                                    map[string]string // only where IAM actions follow it
}

func main() {
	botocore := flag.String("botocore", "", "botocore package directory (default: asks python3)")
	out := flag.String("out", ".", "directory of package awsmodel")
	flag.Parse()
	if *botocore == "" {
		b, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
		if err != nil {
			log.Fatalf("gen: locating botocore: %v", err)
		}
		*botocore = strings.TrimSpace(string(b))
	}
	data := filepath.Join(*botocore, "data")
	dirs, err := os.ReadDir(data)
	if err != nil {
		log.Fatalf("gen: %v", err)
	}
	dataDir := filepath.Join(*out, "data")
	if err := os.RemoveAll(dataDir); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		log.Fatal(err)
	}
	var table []tableEntry
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		name := d.Name()
		version := latest(filepath.Join(data, name))
		if version == "" {
			continue
		}
		raw, err := readGz(filepath.Join(data, name, version, "service-2.json.gz"))
		if err != nil {
			log.Fatalf("gen: %s: %v", name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			log.Fatalf("gen: %s: %v", name, err)
		}
		compact, entry := reduce(name, m)
		b, err := lines(compact)
		if err != nil {
			log.Fatal(err)
		}
		if err := writeGz(filepath.Join(dataDir, name+".gz"), b); err != nil {
			log.Fatal(err)
		}
		table = append(table, entry)
	}
	sort.Slice(table, func(i, j int) bool { return table[i].Name < table[j].Name })
	if err := writeGz(filepath.Join(*out, "..", "awsservice", "services.gz"), tableLines(botocoreVersion(*botocore), table)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gen: %d services\n", len(table))
}

// reduce keeps what calling a service needs and returns its table entry.
func reduce(name string, m map[string]any) (map[string]any, tableEntry) {
	meta := pick(m["metadata"].(map[string]any), metadataKeys)
	meta["protocol"] = chooseProtocol(meta)
	ops := map[string]any{}
	var names []string
	methods := map[string]string{}
	for opName, o := range m["operations"].(map[string]any) {
		op := pick(o.(map[string]any), operationKeys)
		ops[opName] = op
		names = append(names, opName)
		if h, ok := op["http"].(map[string]any); ok && (name == "apigateway" || name == "apigatewayv2") {
			methods[opName], _ = h["method"].(string)
		}
	}
	sort.Strings(names)
	shapes := map[string]any{}
	for shapeName, s := range m["shapes"].(map[string]any) {
		sh := pick(s.(map[string]any), shapeKeys)
		if ms, ok := sh["members"].(map[string]any); ok {
			for k, mv := range ms {
				ms[k] = pick(mv.(map[string]any), memberKeys)
			}
		}
		for _, k := range []string{"member", "key", "value"} {
			if mv, ok := sh[k].(map[string]any); ok {
				sh[k] = pick(mv, memberKeys)
			}
		}
		if e, ok := sh["error"].(map[string]any); ok {
			sh["error"] = pick(e, keys("code httpStatusCode senderFault"))
		}
		shapes[shapeName] = sh
	}
	for _, u := range unions[name] {
		if sh, ok := shapes[u].(map[string]any); ok {
			sh["union"] = true
		}
	}
	iam, _ := meta["signingName"].(string)
	if iam == "" {
		iam, _ = meta["endpointPrefix"].(string)
	}
	if p, ok := iamPrefix[name]; ok {
		iam = p
	}
	id, _ := meta["serviceId"].(string)
	entry := tableEntry{
		Name:       name,
		IAMPrefix:  iam,
		EndpointID: id,
		SDKPackage: sdkPackage(id),
		Protocol:   meta["protocol"].(string),
		APIVersion: meta["apiVersion"].(string),
		Operations: names,
	}
	if len(methods) > 0 {
		entry.HTTPMethod = methods
	}
	return map[string]any{"metadata": meta, "operations": ops, "shapes": shapes}, entry
}

// tableLines lays the service table out as awsservice reads it: the
// botocore version on the first line, then one tab-separated line per
// service: name, IAM prefix, endpoint id, SDK package, protocol, API
// version, operations (comma-separated), and op=METHOD pairs where IAM
// actions follow the HTTP method.
func tableLines(version string, table []tableEntry) []byte {
	var buf bytes.Buffer
	buf.WriteString(version + "\n")
	for _, e := range table {
		var methods []string
		for _, op := range slices.Sorted(maps.Keys(e.HTTPMethod)) {
			methods = append(methods, op+"="+e.HTTPMethod[op])
		}
		fmt.Fprintf(&buf, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.IAMPrefix, e.EndpointID, e.SDKPackage, e.Protocol, e.APIVersion,
			strings.Join(e.Operations, ","), strings.Join(methods, ","))
	}
	return buf.Bytes()
}

// lines lays a reduced model out as awsmodel reads it: the metadata as JSON
// on the first line, then one line per operation ("o NAME JSON") and per
// shape ("s NAME JSON"), sorted, so that a reader finds a shape by splitting
// lines instead of scanning the whole JSON.
func lines(m map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	meta, err := json.Marshal(m["metadata"])
	if err != nil {
		return nil, err
	}
	buf.Write(meta)
	buf.WriteByte('\n')
	for _, part := range []struct{ tag, key string }{{"o", "operations"}, {"s", "shapes"}} {
		items := m[part.key].(map[string]any)
		for _, name := range slices.Sorted(maps.Keys(items)) {
			b, err := json.Marshal(items[name])
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&buf, "%s %s %s\n", part.tag, name, b)
		}
	}
	return buf.Bytes(), nil
}

// sdkPackage is aws-sdk-go-v2's package name for a service id: lower case,
// without spaces and dashes ("CloudWatch Logs" → cloudwatchlogs).
func sdkPackage(id string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(id))
}

func chooseProtocol(meta map[string]any) string {
	p, _ := meta["protocol"].(string)
	list, _ := meta["protocols"].([]any)
	for _, want := range protocolOrder {
		for _, l := range list {
			if l == want {
				return want
			}
		}
	}
	return p
}

func pick(m map[string]any, keep map[string]bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if keep[k] {
			out[k] = v
		}
	}
	return out
}

func keys(s string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(s) {
		m[k] = true
	}
	return m
}

// latest returns the newest API version directory holding a model, as
// boto3 picks it.
func latest(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var versions []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "service-2.json.gz")); err == nil {
			versions = append(versions, e.Name())
		}
	}
	if len(versions) == 0 {
		return ""
	}
	return slices.Max(versions)
}

func readGz(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeGz writes b gzipped with an empty header (no name, no time), so the
// same input gives the same bytes.
func writeGz(path string, b []byte) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func botocoreVersion(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "__init__.py"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "__version__ = "); ok {
			return strings.Trim(v, `'"`)
		}
	}
	return ""
}
