package awsservice

import "strings"

// IAMAction returns the IAM action an operation needs, e.g.
// IAMAction("elbv2", "describe_load_balancers") gives
// "elasticloadbalancing:DescribeLoadBalancers" and IAMAction("s3",
// "ListObjectsV2") gives "s3:ListBucket". It reports false when the service
// is unknown or does not define the operation.
//
// The rule is "<IAM prefix>:<operation>"; iamExceptions lists the
// operations AWS authorizes under another action, and API Gateway's
// management APIs are authorized by HTTP method ("apigateway:GET").
func IAMAction(service, api string) (string, bool) {
	actions, ok := IAMActions(service, api)
	if !ok {
		return "", false
	}
	return actions[0], true
}

// IAMActions returns every IAM action an operation needs, the main one
// first: CopyObject needs s3:GetObject on its source and s3:PutObject on its
// target.
func IAMActions(service, api string) ([]string, bool) {
	s, ok := Lookup(service)
	if !ok {
		return nil, false
	}
	op, ok := s.Operation(api)
	if !ok {
		return nil, false
	}
	if m, ok := s.methods[op]; ok && m != "" {
		return []string{s.IAMPrefix + ":" + strings.ToUpper(m)}, true
	}
	if ex, ok := iamExceptions[s.Name+":"+op]; ok {
		return strings.Fields(ex), true
	}
	return []string{s.IAMPrefix + ":" + op}, true
}

// iamExceptions maps "service:Operation" (boto3 service name, model
// operation name) to the IAM actions AWS checks for it, where they are not
// "<prefix>:<Operation>", space-separated with the main one first.
//
// Source: the Service Authorization Reference ("Actions, resources, and
// condition keys for Amazon S3", "… for AWS Lambda", "… for Amazon EC2",
// "… for AWS Security Token Service", …), whose action tables name the API
// each action authorizes, and the Amazon S3 API Reference's "Permissions"
// section of each operation.
var iamExceptions = map[string]string{
	// Amazon S3: bucket-level reads are ListBucket*, the *Configuration
	// APIs keep their older action names, Delete* of a subresource is its
	// Put*.
	"s3:ListObjects":                                 "s3:ListBucket",
	"s3:ListObjectsV2":                               "s3:ListBucket",
	"s3:HeadBucket":                                  "s3:ListBucket",
	"s3:ListObjectVersions":                          "s3:ListBucketVersions",
	"s3:ListMultipartUploads":                        "s3:ListBucketMultipartUploads",
	"s3:ListParts":                                   "s3:ListMultipartUploadParts",
	"s3:ListBuckets":                                 "s3:ListAllMyBuckets",
	"s3:ListDirectoryBuckets":                        "s3express:ListAllMyDirectoryBuckets",
	"s3:HeadObject":                                  "s3:GetObject",
	"s3:GetObjectAttributes":                         "s3:GetObject s3:GetObjectAttributes",
	"s3:SelectObjectContent":                         "s3:GetObject",
	"s3:CopyObject":                                  "s3:PutObject s3:GetObject",
	"s3:UploadPartCopy":                              "s3:PutObject s3:GetObject",
	"s3:CreateMultipartUpload":                       "s3:PutObject",
	"s3:UploadPart":                                  "s3:PutObject",
	"s3:CompleteMultipartUpload":                     "s3:PutObject",
	"s3:DeleteObjects":                               "s3:DeleteObject",
	"s3:DeleteBucketCors":                            "s3:PutBucketCORS",
	"s3:GetBucketCors":                               "s3:GetBucketCORS",
	"s3:PutBucketCors":                               "s3:PutBucketCORS",
	"s3:DeleteBucketEncryption":                      "s3:PutEncryptionConfiguration",
	"s3:GetBucketEncryption":                         "s3:GetEncryptionConfiguration",
	"s3:PutBucketEncryption":                         "s3:PutEncryptionConfiguration",
	"s3:DeleteBucketLifecycle":                       "s3:PutLifecycleConfiguration",
	"s3:GetBucketLifecycle":                          "s3:GetLifecycleConfiguration",
	"s3:GetBucketLifecycleConfiguration":             "s3:GetLifecycleConfiguration",
	"s3:PutBucketLifecycle":                          "s3:PutLifecycleConfiguration",
	"s3:PutBucketLifecycleConfiguration":             "s3:PutLifecycleConfiguration",
	"s3:DeleteBucketReplication":                     "s3:PutReplicationConfiguration",
	"s3:GetBucketReplication":                        "s3:GetReplicationConfiguration",
	"s3:PutBucketReplication":                        "s3:PutReplicationConfiguration",
	"s3:DeleteBucketTagging":                         "s3:PutBucketTagging",
	"s3:DeletePublicAccessBlock":                     "s3:PutBucketPublicAccessBlock",
	"s3:GetPublicAccessBlock":                        "s3:GetBucketPublicAccessBlock",
	"s3:PutPublicAccessBlock":                        "s3:PutBucketPublicAccessBlock",
	"s3:DeleteBucketOwnershipControls":               "s3:PutBucketOwnershipControls",
	"s3:GetBucketNotificationConfiguration":          "s3:GetBucketNotification",
	"s3:PutBucketNotificationConfiguration":          "s3:PutBucketNotification",
	"s3:GetBucketAccelerateConfiguration":            "s3:GetAccelerateConfiguration",
	"s3:PutBucketAccelerateConfiguration":            "s3:PutAccelerateConfiguration",
	"s3:GetBucketAnalyticsConfiguration":             "s3:GetAnalyticsConfiguration",
	"s3:PutBucketAnalyticsConfiguration":             "s3:PutAnalyticsConfiguration",
	"s3:DeleteBucketAnalyticsConfiguration":          "s3:PutAnalyticsConfiguration",
	"s3:ListBucketAnalyticsConfigurations":           "s3:GetAnalyticsConfiguration",
	"s3:GetBucketInventoryConfiguration":             "s3:GetInventoryConfiguration",
	"s3:PutBucketInventoryConfiguration":             "s3:PutInventoryConfiguration",
	"s3:DeleteBucketInventoryConfiguration":          "s3:PutInventoryConfiguration",
	"s3:ListBucketInventoryConfigurations":           "s3:GetInventoryConfiguration",
	"s3:GetBucketMetricsConfiguration":               "s3:GetMetricsConfiguration",
	"s3:PutBucketMetricsConfiguration":               "s3:PutMetricsConfiguration",
	"s3:DeleteBucketMetricsConfiguration":            "s3:PutMetricsConfiguration",
	"s3:ListBucketMetricsConfigurations":             "s3:GetMetricsConfiguration",
	"s3:GetBucketIntelligentTieringConfiguration":    "s3:GetIntelligentTieringConfiguration",
	"s3:PutBucketIntelligentTieringConfiguration":    "s3:PutIntelligentTieringConfiguration",
	"s3:DeleteBucketIntelligentTieringConfiguration": "s3:PutIntelligentTieringConfiguration",
	"s3:ListBucketIntelligentTieringConfigurations":  "s3:GetIntelligentTieringConfiguration",
	"s3:GetObjectLockConfiguration":                  "s3:GetBucketObjectLockConfiguration",
	"s3:PutObjectLockConfiguration":                  "s3:PutBucketObjectLockConfiguration",
	// AWS Lambda: Invoke is authorized as InvokeFunction, and the API's
	// versioned names are not the actions'.
	"lambda:Invoke":                   "lambda:InvokeFunction",
	"lambda:InvokeWithResponseStream": "lambda:InvokeFunction",
	"lambda:InvokeAsync":              "lambda:InvokeFunction",
	// Amazon EC2: attaching an instance profile passes its role, so the
	// caller needs iam:PassRole on it as well.
	"ec2:AssociateIamInstanceProfile":          "ec2:AssociateIamInstanceProfile iam:PassRole",
	"ec2:ReplaceIamInstanceProfileAssociation": "ec2:ReplaceIamInstanceProfileAssociation iam:PassRole",
	// AWS KMS: ReEncrypt needs both halves.
	"kms:ReEncrypt": "kms:ReEncryptFrom kms:ReEncryptTo",
	// Amazon S3 Control (s3control signs as s3): the account-level public
	// access block is authorized under the bucket-level action names.
	"s3control:GetPublicAccessBlock":    "s3:GetAccountPublicAccessBlock",
	"s3control:PutPublicAccessBlock":    "s3:PutAccountPublicAccessBlock",
	"s3control:DeletePublicAccessBlock": "s3:PutAccountPublicAccessBlock",
}
