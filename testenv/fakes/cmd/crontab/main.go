// Command crontab is the fake crontab of package fakes, for tests that need it as an executable.
package main

import "github.com/wnm-project/wnm/testenv/fakes"

func main() { fakes.CrontabMain() }
