package action

import "time"

// FastRegistry is Builtin with the waiting actions polling every few
// milliseconds, so tests against moto finish promptly.
func FastRegistry() *Registry {
	r := Builtin()
	r.SetPolling(time.Millisecond, 10*time.Millisecond)
	return r
}
