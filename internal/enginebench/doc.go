// Package enginebench holds the end-to-end benchmarks that need the AWS
// layer and moto: a runbook of real AWS operations run by the engine next to
// the same calls made directly with the SDK. They live apart from
// internal/engine so that the engine's own tests do not link every AWS
// service client.
package enginebench
