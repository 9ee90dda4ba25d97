// Command loadconfig only loads the SDK configuration: the floor that
// BenchmarkStartup compares `capstan --help` with.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
)

func main() {
	if _, err := config.LoadDefaultConfig(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
