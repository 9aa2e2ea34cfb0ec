package discovery

// Passes returns how many re-registration passes d has completed, so that
// a test can wait for the one a reconnection starts.
func Passes[T any](d *Discovery[T]) int64 { return d.passes.Load() }
