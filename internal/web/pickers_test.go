package web_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/capstan-run/capstan/internal/action"
	"github.com/capstan-run/capstan/internal/awsapi"
	"github.com/capstan-run/capstan/internal/engine"
	"github.com/capstan-run/capstan/internal/mototest"
	"github.com/capstan-run/capstan/internal/service"
	"github.com/capstan-run/capstan/internal/web"
)

// withMotoInstances points the service's account at a fresh moto holding
// two instances named web-1 and db-1, and returns their ids in that order.
func withMotoInstances(t *testing.T) (func(*service.Options), []string) {
	t.Helper()
	m := mototest.Start(t)
	m.SetEnv(t)
	ctx := context.Background()
	cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	inv := awsapi.New(cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
	var ids []string
	for _, name := range []string{"web-1", "db-1"} {
		out, err := inv.Invoke(ctx, "ec2", "RunInstances", map[string]any{
			"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro",
			"TagSpecifications": []any{map[string]any{"ResourceType": "instance", "Tags": []any{map[string]any{"Key": "Name", "Value": name}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		list, _ := out["Instances"].([]any)
		if len(list) != 1 {
			t.Fatalf("RunInstances: %v", out)
		}
		id, _ := list[0].(map[string]any)["InstanceId"].(string)
		ids = append(ids, id)
	}
	return func(o *service.Options) {
		o.Account = func(context.Context) (action.Invoker, error) { return inv, nil }
	}, ids
}

var optionRE = regexp.MustCompile(`<option value="([^"]+)" label="([^"]+)">`)

// pickerOptions are the id and label of each instance a field offers.
func pickerOptions(page, param string) map[string]string {
	list := between(page, `<datalist id="nodes-`+param+`">`, `</datalist>`)
	out := map[string]string{}
	for _, m := range optionRE.FindAllStringSubmatch(list, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

func TestInstanceIdFieldsOfferTheNodeInventory(t *testing.T) {
	withMoto, ids := withMotoInstances(t)
	f := newFixture(t, web.Options{}, withMoto)
	c := newClient(t, f)
	c.login("alice", password)
	_, page := c.do("GET", "/ui/runbooks/Reboot", nil)
	for _, param := range []string{"InstanceId", "Others"} {
		opts := pickerOptions(page, param)
		if len(opts) != 2 || !strings.HasPrefix(opts[ids[0]], "web-1 · ") || !strings.HasPrefix(opts[ids[1]], "db-1 · ") {
			t.Fatalf("%s offers %v, want %s (web-1) and %s (db-1) with their state", param, opts, ids[0], ids[1])
		}
		if !strings.Contains(page, `list="nodes-`+param+`"`) {
			t.Errorf("the %s input is not tied to its instance list", param)
		}
	}
	if label := pickerOptions(page, "InstanceId")[ids[0]]; label != "web-1 · running" && label != "web-1 · pending" {
		t.Errorf("the label of %s is %q, want its Name tag and state", ids[0], label)
	}

	// A picked id and a typed one both go through; the server's rules
	// are unchanged.
	id := c.start("Reboot", url.Values{"InstanceId": {ids[1]}, "Others": {ids[0], "i-0123456789abcdef0"}})
	st, err := f.svc.Engine().Wait(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Started.ParameterText; got["InstanceId"][0] != ids[1] || strings.Join(got["Others"], ",") != ids[0]+",i-0123456789abcdef0" {
		t.Errorf("parameters recorded: %v", got)
	}
	_, page = c.do("GET", "/ui/runbooks/Reboot", nil)
	code, body := c.do("POST", "/ui/runbooks/Reboot", url.Values{"csrf": {csrfOf(t, page)}, "InstanceId": {"web-1"}})
	if want := `parameter InstanceId: value "web-1": not a valid AWS::EC2::Instance::Id`; code != 400 || !strings.Contains(html.UnescapeString(between(body, `id="err-InstanceId"`, `</p>`)), want) {
		t.Errorf("a Name instead of an id: %d, want %q next to the field:\n%s", code, want, body)
	}

	// bob may not list the inventory: his field is free text only.
	b := newClient(t, f)
	b.login("bob", password)
	if _, page := b.do("GET", "/ui/runbooks/Reboot", nil); strings.Contains(page, "<datalist") || strings.Contains(page, ids[0]) {
		t.Errorf("bob, without capstan:ListNodes, is offered the instances:\n%s", page)
	}
}

// In Chromium: the instance field is tied to the inventory's list, and an
// instance picked from it runs.
func TestBrowserInstancePicker(t *testing.T) {
	withMoto, ids := withMotoInstances(t)
	f := newFixture(t, web.Options{Poll: 50 * time.Millisecond}, withMoto)
	base := f.srv.URL
	b := newBrowser(t)
	b.login(base, "alice")
	b.run("open Reboot", chromedp.Navigate(base+"/ui/runbooks/Reboot"), chromedp.WaitVisible(chromedp.CSS(`#p-InstanceId`)))
	offered := value(b, "the instance list", chromedp.Evaluate[string](
		`[...document.getElementById("p-InstanceId").list.options].map(o => o.value + " " + o.label).join("\n")`))
	for i, name := range []string{"web-1", "db-1"} {
		if !strings.Contains(offered, ids[i]+" "+name+" · ") {
			t.Fatalf("the InstanceId field offers\n%s\nwant %s (%s) with its state", offered, ids[i], name)
		}
	}
	b.screenshot("runbook-instance-picker")
	b.run("run on db-1",
		chromedp.SendKeys(chromedp.CSS(`#p-InstanceId`), ids[1]),
		chromedp.Click(chromedp.CSS(`form.run button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-done]`)),
	)
	if got := b.text(`#status`); got != "Success" {
		t.Fatalf("status %q, want Success", got)
	}
	if got := b.text(`dl.kvs`); !strings.Contains(got, ids[1]) {
		t.Errorf("the execution's inputs %q lack %s", got, ids[1])
	}
	b.noErrors("instance picker")
}

// perProjectInstances serves the UI with projects default (us-east-1) and
// audit (eu-west-1), whose executions call moto in their Region, and an
// instance in each Region, by Region.
func perProjectInstances(t *testing.T, opts web.Options) (*fixture, map[string]string) {
	t.Helper()
	m := mototest.Start(t)
	m.SetEnv(t)
	ctx := context.Background()
	inRegion := func(region string) *awsapi.Client {
		cfg, err := awsapi.LoadConfig(ctx, awsapi.LoadOptions{Region: region})
		if err != nil {
			t.Fatal(err)
		}
		return awsapi.New(cfg, awsapi.Options{Limiters: &awsapi.Limiters{}})
	}
	ids := map[string]string{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		out, err := inRegion(region).Invoke(ctx, "ec2", "RunInstances", map[string]any{"ImageId": "ami-12c6146b", "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro"})
		if err != nil {
			t.Fatal(err)
		}
		ids[region], _ = out["Instances"].([]any)[0].(map[string]any)["InstanceId"].(string)
	}
	f := newFixture(t, opts, withProjects(t), func(o *service.Options) {
		o.Engine.NewInvoker = func(_ context.Context, req engine.InvokerRequest) (action.Invoker, error) {
			return inRegion(req.Region), nil
		}
	})
	return f, ids
}

// The instances offered are those of the project the run is to run in: its
// Region (here as capstan serve calls AWS for a project's executions).
func TestInstancePickerIsPerProject(t *testing.T) {
	f, ids := perProjectInstances(t, web.Options{})
	c := newClient(t, f)
	c.login("alice", password)
	for project, region := range map[string]string{"default": "us-east-1", "audit": "eu-west-1"} {
		_, page := c.do("GET", "/ui/runbooks/Reboot?project="+project, nil)
		opts := pickerOptions(page, "InstanceId")
		if _, ok := opts[ids[region]]; !ok || len(opts) != 1 {
			t.Errorf("project %s offers %v, want only %s (%s)", project, opts, ids[region], region)
		}
	}
}

// In Chromium: choosing another project on the form offers that project's
// instances.
func TestBrowserInstancePickerFollowsTheProject(t *testing.T) {
	f, ids := perProjectInstances(t, web.Options{})
	base := f.srv.URL
	b := newBrowser(t)
	b.login(base, "alice")
	offered := func() string {
		return value(b, "the instance list", chromedp.Evaluate[string](
			`[...document.getElementById("p-InstanceId").list.options].map(o => o.value).join(" ")`))
	}
	b.run("open Reboot", chromedp.Navigate(base+"/ui/runbooks/Reboot"), chromedp.WaitVisible(chromedp.CSS(`#project`)))
	if got := offered(); got != ids["us-east-1"] {
		t.Fatalf("in project default the form offers %q, want %s", got, ids["us-east-1"])
	}
	// Setting the value fires the select's change event, as choosing does.
	b.run("choose audit", chromedp.SetValue(chromedp.CSS(`#project`), "audit"))
	for i := 0; !strings.Contains(value(b, "location", chromedp.Location()), "project=audit"); i++ {
		if i == 100 {
			t.Fatal("choosing audit did not load the form for audit")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.run("the reloaded form", chromedp.WaitVisible(chromedp.CSS(`#p-InstanceId`)))
	if got := offered(); got != ids["eu-west-1"] {
		t.Errorf("after choosing audit the form offers %q, want %s", got, ids["eu-west-1"])
	}
	b.noErrors("project choice")
}
