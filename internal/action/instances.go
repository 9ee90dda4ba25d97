package action

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// InstanceStateError says an instance reached a state from which the desired
// one cannot follow (a terminated instance never runs again), so waiting
// longer is pointless.
type InstanceStateError struct {
	InstanceID string
	State      string
	Desired    string
}

func (e *InstanceStateError) Error() string {
	return fmt.Sprintf("instance %s is %s and cannot become %s", e.InstanceID, e.State, e.Desired)
}

type changeInstanceState struct{ poll poller }

func (a *changeInstanceState) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:changeInstanceState"
	ids, err := requiredList(name, req.Inputs, "InstanceIds")
	if err != nil {
		return nil, err
	}
	desired, err := stringInput(name, req.Inputs, "DesiredState")
	if err != nil {
		return nil, err
	}
	checkOnly, err := boolInput(name, req.Inputs, "CheckStateOnly")
	if err != nil {
		return nil, err
	}
	force, err := boolInput(name, req.Inputs, "Force")
	if err != nil {
		return nil, err
	}
	failOnStopped, err := boolInput(name, req.Inputs, "FailOnUnexpectedStopped")
	if err != nil {
		return nil, err
	}
	var op string
	request := map[string]any{"InstanceIds": anyList(ids)}
	switch desired {
	case "running":
		op = "StartInstances"
		copyPresent(request, req.Inputs, map[string]string{"AdditionalInfo": ""})
	case "stopped":
		op = "StopInstances"
		if force {
			request["Force"] = true
		}
	case "terminated":
		op = "TerminateInstances"
	default:
		return nil, &InputError{Action: name, Input: "DesiredState", Reason: fmt.Sprintf("%q is not running, stopped or terminated", desired)}
	}
	if !checkOnly {
		// Start, stop and terminate are idempotent in EC2, so a retry after a
		// crash repeats the call harmlessly.
		if _, err := invoke(ctx, req, name, "ec2", op, request); err != nil {
			return nil, err
		}
	}
	states, err := waitInstances(ctx, req, name, a.poll, ids, desired, failOnStopped)
	if err != nil {
		return nil, err
	}
	return &Result{Response: map[string]any{"InstanceStates": states}}, nil
}

// waitInstances polls until every instance is in the desired state and, for
// running, passes both status checks (SSM waits for them so a following
// runCommand finds the instance reachable). It returns the final states in
// the order of ids. With failOnStopped, an instance seen stopping or stopped
// on the way to running fails the wait at once instead of being waited for.
func waitInstances(ctx context.Context, req *Request, action string, p poller, ids []string, desired string, failOnStopped bool) ([]any, error) {
	var states []any
	err := p.until(ctx, req, func(ctx context.Context) (bool, string, error) {
		byID, err := describeStates(ctx, req, action, ids)
		if err != nil {
			return false, "", err
		}
		states = states[:0]
		var waiting []string
		for _, id := range ids {
			st, seen := byID[id]
			states = append(states, st)
			if !seen {
				waiting = append(waiting, id+" not found yet")
				continue
			}
			if st != desired {
				if unreachable(st, desired) || (failOnStopped && desired == "running" && (st == "stopped" || st == "stopping")) {
					return false, "", fmt.Errorf("%s: %w", action, &InstanceStateError{InstanceID: id, State: st, Desired: desired})
				}
				waiting = append(waiting, id+" "+st)
			}
		}
		if len(waiting) > 0 {
			return false, "instances " + strings.Join(waiting, ", "), nil
		}
		if desired != "running" {
			return true, "", nil
		}
		notOK, err := statusNotOK(ctx, req, action, ids)
		if err != nil {
			return false, "", err
		}
		if len(notOK) > 0 {
			return false, "status checks not ok: " + strings.Join(notOK, ", "), nil
		}
		return true, "", nil
	})
	if err != nil {
		if ctx.Err() == nil {
			return nil, err // already names the action and the call
		}
		return nil, fmt.Errorf("%s: instances %s to be %s: %w", action, strings.Join(ids, ", "), desired, err)
	}
	return states, nil
}

// unreachable: terminated is final, and a terminating instance only ends
// terminated.
func unreachable(state, desired string) bool {
	if desired == "terminated" {
		return false
	}
	return state == "terminated" || state == "shutting-down"
}

func describeStates(ctx context.Context, req *Request, action string, ids []string) (map[string]string, error) {
	out, err := invoke(ctx, req, action, "ec2", "DescribeInstances", map[string]any{"InstanceIds": anyList(ids)})
	if err != nil {
		return nil, err
	}
	states := map[string]string{}
	for _, r := range digList(out, "Reservations") {
		for _, inst := range digList(r, "Instances") {
			states[digString(inst, "InstanceId")] = digString(inst, "State", "Name")
		}
	}
	return states, nil
}

// statusNotOK lists the instances whose instance or system status is not ok.
func statusNotOK(ctx context.Context, req *Request, action string, ids []string) ([]string, error) {
	out, err := invoke(ctx, req, action, "ec2", "DescribeInstanceStatus",
		map[string]any{"InstanceIds": anyList(ids), "IncludeAllInstances": true})
	if err != nil {
		return nil, err
	}
	ok := map[string]bool{}
	for _, s := range digList(out, "InstanceStatuses") {
		if digString(s, "InstanceStatus", "Status") == "ok" && digString(s, "SystemStatus", "Status") == "ok" {
			ok[digString(s, "InstanceId")] = true
		}
	}
	var notOK []string
	for _, id := range ids {
		if !ok[id] {
			notOK = append(notOK, id)
		}
	}
	return notOK, nil
}

type runInstances struct{ poll poller }

func (a *runInstances) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:runInstances"
	image, err := stringInput(name, req.Inputs, "ImageId")
	if err != nil {
		return nil, err
	}
	minCount, err := intInput(name, req.Inputs, "MinInstanceCount", 1)
	if err != nil {
		return nil, err
	}
	maxCount, err := intInput(name, req.Inputs, "MaxInstanceCount", 1)
	if err != nil {
		return nil, err
	}
	instanceType := "m1.small" // SSM's documented default, not EC2's
	if present(req.Inputs, "InstanceType") {
		if instanceType, err = stringInput(name, req.Inputs, "InstanceType"); err != nil {
			return nil, err
		}
	}
	request := map[string]any{"ImageId": image, "InstanceType": instanceType, "MinCount": minCount, "MaxCount": maxCount}
	copyPresent(request, req.Inputs, map[string]string{
		"AdditionalInfo": "", "BlockDeviceMappings": "", "ClientToken": "", "DisableApiTermination": "",
		"EbsOptimized": "", "InstanceInitiatedShutdownBehavior": "", "KernelId": "", "KeyName": "",
		"MetadataOptions": "", "NetworkInterfaces": "", "Placement": "", "PrivateIpAddress": "",
		"RamdiskId": "", "SecurityGroupIds": "", "SecurityGroups": "", "SubnetId": "",
		"TagSpecifications": "", "UserData": "",
	})
	// SSM flattens two structures of RunInstances into plain inputs.
	if present(req.Inputs, "IamInstanceProfileArn") {
		request["IamInstanceProfile"] = map[string]any{"Arn": req.Inputs["IamInstanceProfileArn"]}
	} else if present(req.Inputs, "IamInstanceProfileName") {
		request["IamInstanceProfile"] = map[string]any{"Name": req.Inputs["IamInstanceProfileName"]}
	}
	if present(req.Inputs, "Monitoring") {
		on, err := boolInput(name, req.Inputs, "Monitoring")
		if err != nil {
			return nil, err
		}
		request["Monitoring"] = map[string]any{"Enabled": on}
	}
	out, err := invoke(ctx, req, name, "ec2", "RunInstances", request)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, inst := range digList(out, "Instances") {
		ids = append(ids, digString(inst, "InstanceId"))
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: RunInstances launched no instances", name)
	}
	sort.Strings(ids)
	states, err := waitInstances(ctx, req, name, a.poll, ids, "running", false)
	if err != nil {
		return nil, err
	}
	return &Result{
		Outputs:  map[string]any{"InstanceIds": anyList(ids), "InstanceStates": states},
		Response: out,
	}, nil
}

var (
	_ Action = (*changeInstanceState)(nil)
	_ Action = (*runInstances)(nil)
)
