package ssmshape

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/capstan-run/capstan/internal/store"
)

// Filter is SSM's key and values filter of a listing request
// (AutomationExecutionFilter, StepExecutionFilter, DocumentKeyValuesFilter).
type Filter struct {
	Key    string
	Values []string
}

// FilterError is a filter SSM refuses: Code is InvalidFilterKey or
// InvalidFilterValue, as SSM answers.
type FilterError struct {
	Code    string
	Message string
}

func (e *FilterError) Error() string { return e.Message }

// ErrorCode is SSM's exception name.
func (e *FilterError) ErrorCode() string { return e.Code }

// Usage: a bad filter is the caller's input (the CLI's exit status 2).
func (e *FilterError) Usage() bool { return true }

func badKey(key string) *FilterError {
	return &FilterError{Code: "InvalidFilterKey", Message: fmt.Sprintf("The filter key %s is not valid", key)}
}

func badValue(format string, args ...any) *FilterError {
	return &FilterError{Code: "InvalidFilterValue", Message: fmt.Sprintf(format, args...)}
}

// ExecutionFilter reads DescribeAutomationExecutions' filters into the
// store's filter (which the service checks values of, such as statuses).
func ExecutionFilter(filters []Filter) (store.ExecutionFilter, error) {
	var f store.ExecutionFilter
	for _, kv := range filters {
		if len(kv.Values) < 1 || len(kv.Values) > 10 {
			if !executionKeys[kv.Key] {
				return f, badKey(kv.Key)
			}
			return f, badValue("The filter %s takes 1 to 10 values", kv.Key)
		}
		switch kv.Key {
		case "DocumentNamePrefix":
			f.DocumentNamePrefix = kv.Values[0]
		case "ExecutionStatus":
			f.Statuses = append(f.Statuses, kv.Values...)
		case "ExecutionId":
			f.IDs = append(f.IDs, kv.Values...)
		case "ParentExecutionId":
			f.ParentIDs = append(f.ParentIDs, kv.Values...)
		case "CurrentAction":
			f.CurrentActions = append(f.CurrentActions, kv.Values...)
		case "AutomationType":
			f.AutomationTypes = append(f.AutomationTypes, kv.Values...)
		case "TagKey":
			f.TagKeys = append(f.TagKeys, kv.Values...)
		case "StartTimeBefore", "StartTimeAfter":
			t, err := filterTime(kv)
			if err != nil {
				return f, err
			}
			if kv.Key == "StartTimeBefore" {
				f.StartTimeBefore = t
			} else {
				f.StartTimeAfter = t
			}
		default:
			return f, badKey(kv.Key)
		}
	}
	return f, nil
}

var executionKeys = map[string]bool{
	"DocumentNamePrefix": true, "ExecutionStatus": true, "ExecutionId": true, "ParentExecutionId": true, "CurrentAction": true,
	"StartTimeBefore": true, "StartTimeAfter": true, "AutomationType": true, "TagKey": true,
}

// filterTime reads a time filter's first value in the forms aws CLI users
// type: RFC 3339, a date, or epoch seconds.
func filterTime(kv Filter) (time.Time, error) {
	if len(kv.Values) == 0 {
		return time.Time{}, badValue("The filter %s needs a value", kv.Key)
	}
	s := kv.Values[0]
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(f * 1000)), nil
	}
	return time.Time{}, badValue("The filter value %s of %s is not a valid time: expected RFC 3339 (2024-01-02T15:04:05Z) or epoch seconds", s, kv.Key)
}

// StepFilter reads DescribeAutomationStepExecutions' filters into a
// predicate on the steps; every filter must hold.
func StepFilter(filters []Filter) (func(StepExecution) bool, error) {
	var preds []func(StepExecution) bool
	for _, kv := range filters {
		vals := map[string]bool{}
		for _, v := range kv.Values {
			vals[v] = true
		}
		switch kv.Key {
		case "StepExecutionStatus":
			preds = append(preds, func(se StepExecution) bool { return vals[se.StepStatus] })
		case "StepExecutionId":
			preds = append(preds, func(se StepExecution) bool { return vals[se.StepExecutionId] })
		case "StepName":
			preds = append(preds, func(se StepExecution) bool { return vals[se.StepName] })
		case "Action":
			preds = append(preds, func(se StepExecution) bool { return vals[se.Action] })
		case "ParentStepExecutionId":
			preds = append(preds, func(se StepExecution) bool {
				return se.ParentStepDetails != nil && vals[se.ParentStepDetails.StepExecutionId]
			})
		case "StartTimeBefore", "StartTimeAfter":
			t, err := filterTime(kv)
			if err != nil {
				return nil, err
			}
			before := kv.Key == "StartTimeBefore"
			preds = append(preds, func(se StepExecution) bool {
				if se.ExecutionStartTime == nil {
					return false
				}
				if before {
					return se.ExecutionStartTime.Before(t)
				}
				return se.ExecutionStartTime.After(t)
			})
		default:
			return nil, badKey(kv.Key)
		}
	}
	return func(se StepExecution) bool {
		for _, p := range preds {
			if !p(se) {
				return false
			}
		}
		return true
	}, nil
}

// DocumentFilter reads ListDocuments' Filters, and its deprecated
// DocumentFilterList (lowerCamel keys, one value each), into the store's
// filter; account is what the owners Self and Private mean.
func DocumentFilter(filters []Filter, old []DocumentFilterItem, account string) (store.DocumentFilter, error) {
	f := store.DocumentFilter{Tags: map[string][]string{}}
	for _, o := range old {
		filters = append(filters, Filter{Key: strings.ToUpper(o.Key[:min(1, len(o.Key))]) + o.Key[min(1, len(o.Key)):], Values: []string{o.Value}})
	}
	for _, kv := range filters {
		switch {
		case kv.Key == "Name":
			if len(kv.Values) > 0 {
				f.NamePrefix = kv.Values[0]
			}
		case kv.Key == "Owner":
			for _, v := range kv.Values {
				switch v {
				case "Self", "Private":
					f.Owners = append(f.Owners, account)
				default:
					f.Owners = append(f.Owners, v)
				}
			}
		case kv.Key == "DocumentType":
			f.DocumentTypes = append(f.DocumentTypes, kv.Values...)
		case kv.Key == "PlatformTypes", kv.Key == "TargetType", kv.Key == "SearchKeyword":
			// Every document runs on every platform here; no target types.
		case strings.HasPrefix(kv.Key, "tag:"):
			f.Tags[strings.TrimPrefix(kv.Key, "tag:")] = kv.Values
		default:
			return f, badKey(kv.Key)
		}
	}
	return f, nil
}

// DocumentFilterItem is one entry of ListDocuments' deprecated
// DocumentFilterList.
type DocumentFilterItem struct{ Key, Value string }
