// Package resiliencetest holds what tests of code that uses package
// resilience need: the goroutines hystrix-go is known to leave behind.
package resiliencetest

import "go.uber.org/goleak"

// LeakOptions tell goleak about the two goroutines hystrix-go starts once per
// command and never stops (hystrix-go#95). They are bounded by the number of
// commands, not by traffic; anything else left running is a real leak.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/afex/hystrix-go/hystrix.(*metricExchange).Monitor"),
		goleak.IgnoreTopFunction("github.com/afex/hystrix-go/hystrix.(*poolMetrics).Monitor"),
	}
}
