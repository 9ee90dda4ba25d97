package action

import (
	"context"
	"fmt"
)

// ImageFailedError says an AMI ended in the failed state while a step waited
// for it to become available.
type ImageFailedError struct {
	ImageID string
	Reason  string // EC2's StateReason message, may be empty
}

func (e *ImageFailedError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("image %s failed", e.ImageID)
	}
	return fmt.Sprintf("image %s failed: %s", e.ImageID, e.Reason)
}

type createImage struct{ poll poller }

func (a *createImage) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:createImage"
	instance, err := stringInput(name, req.Inputs, "InstanceId")
	if err != nil {
		return nil, err
	}
	imageName, err := stringInput(name, req.Inputs, "ImageName")
	if err != nil {
		return nil, err
	}
	request := map[string]any{"InstanceId": instance, "Name": imageName}
	copyPresent(request, req.Inputs, map[string]string{
		"ImageDescription": "Description", "NoReboot": "", "BlockDeviceMappings": "",
	})
	out, err := invoke(ctx, req, name, "ec2", "CreateImage", request)
	if err != nil {
		return nil, err
	}
	return waitImage(ctx, req, name, a.poll, digString(out, "ImageId"))
}

type copyImage struct{ poll poller }

func (a *copyImage) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:copyImage"
	request := map[string]any{}
	for in, member := range map[string]string{"SourceRegion": "SourceRegion", "SourceImageId": "SourceImageId", "ImageName": "Name"} {
		v, err := stringInput(name, req.Inputs, in)
		if err != nil {
			return nil, err
		}
		request[member] = v
	}
	copyPresent(request, req.Inputs, map[string]string{
		"ImageDescription": "Description", "Encrypted": "", "KmsKeyId": "", "ClientToken": "",
	})
	out, err := invoke(ctx, req, name, "ec2", "CopyImage", request)
	if err != nil {
		return nil, err
	}
	return waitImage(ctx, req, name, a.poll, digString(out, "ImageId"))
}

// waitImage polls the new AMI until it is available; failed ends the step.
func waitImage(ctx context.Context, req *Request, action string, p poller, id string) (*Result, error) {
	if id == "" {
		return nil, fmt.Errorf("%s: EC2 returned no ImageId", action)
	}
	state := ""
	err := p.until(ctx, req, func(ctx context.Context) (bool, string, error) {
		out, err := invoke(ctx, req, action, "ec2", "DescribeImages", map[string]any{"ImageIds": []any{id}})
		if err != nil {
			return false, "", err
		}
		images := digList(out, "Images")
		if len(images) == 0 {
			// A fresh AMI can lag behind in DescribeImages; keep waiting.
			return false, "image " + id + " not visible yet", nil
		}
		state = digString(images[0], "State")
		switch state {
		case "available":
			return true, "", nil
		case "failed", "error", "invalid", "deregistered":
			return false, "", fmt.Errorf("%s: %w", action, &ImageFailedError{ImageID: id, Reason: digString(images[0], "StateReason", "Message")})
		}
		return false, "image " + id + " " + state, nil
	})
	if err != nil {
		if ctx.Err() == nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: image %s to be available: %w", action, id, err)
	}
	return &Result{Outputs: map[string]any{"ImageId": id, "ImageState": state}}, nil
}

type deleteImage struct{}

// Run deregisters the AMI first: EC2 refuses to delete a snapshot an AMI
// still uses. The snapshot IDs are read before, since a deregistered AMI can
// no longer be described.
func (deleteImage) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:deleteImage"
	id, err := stringInput(name, req.Inputs, "ImageId")
	if err != nil {
		return nil, err
	}
	out, err := invoke(ctx, req, name, "ec2", "DescribeImages", map[string]any{"ImageIds": []any{id}})
	if err != nil {
		return nil, err
	}
	images := digList(out, "Images")
	if len(images) == 0 {
		return nil, fmt.Errorf("%s: image %s not found", name, id)
	}
	var snapshots []string
	for _, bdm := range digList(images[0], "BlockDeviceMappings") {
		if s := digString(bdm, "Ebs", "SnapshotId"); s != "" {
			snapshots = append(snapshots, s)
		}
	}
	if _, err := invoke(ctx, req, name, "ec2", "DeregisterImage", map[string]any{"ImageId": id}); err != nil {
		return nil, err
	}
	for _, s := range snapshots {
		if _, err := invoke(ctx, req, name, "ec2", "DeleteSnapshot", map[string]any{"SnapshotId": s}); err != nil {
			return nil, fmt.Errorf("%s: image %s deregistered, snapshot %s left: %w", name, id, s, err)
		}
	}
	return &Result{Response: map[string]any{"ImageId": id, "DeletedSnapshots": anyList(snapshots)}}, nil
}

type createTags struct{}

func (createTags) Run(ctx context.Context, req *Request) (*Result, error) {
	const name = "aws:createTags"
	ids, err := requiredList(name, req.Inputs, "ResourceIds")
	if err != nil {
		return nil, err
	}
	tags, ok := req.Inputs["Tags"].([]any)
	if !ok || len(tags) == 0 {
		return nil, &InputError{Action: name, Input: "Tags", Reason: "expected a non-empty MapList of Key/Value"}
	}
	resourceType := "EC2"
	if present(req.Inputs, "ResourceType") {
		if resourceType, err = stringInput(name, req.Inputs, "ResourceType"); err != nil {
			return nil, err
		}
	}
	switch resourceType {
	case "EC2":
		_, err = invoke(ctx, req, name, "ec2", "CreateTags", map[string]any{"Resources": anyList(ids), "Tags": tags})
	case "ManagedInstance", "MaintenanceWindow", "Parameter":
		// AddTagsToResource takes one resource per call, and SSM documents
		// a single ID for these types.
		if len(ids) != 1 {
			return nil, &InputError{Action: name, Input: "ResourceIds", Reason: fmt.Sprintf("ResourceType %s takes exactly one ID, got %d", resourceType, len(ids))}
		}
		_, err = invoke(ctx, req, name, "ssm", "AddTagsToResource",
			map[string]any{"ResourceType": resourceType, "ResourceId": ids[0], "Tags": tags})
	default:
		return nil, &InputError{Action: name, Input: "ResourceType", Reason: fmt.Sprintf("%q is not EC2, ManagedInstance, MaintenanceWindow or Parameter", resourceType)}
	}
	if err != nil {
		return nil, err
	}
	return &Result{}, nil
}

var (
	_ Action = (*createImage)(nil)
	_ Action = (*copyImage)(nil)
	_ Action = deleteImage{}
	_ Action = createTags{}
)
