// Package asynqlog adapts log/slog to Asynq's Logger, for every package
// that runs an asynq.Server.
package asynqlog

import (
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// Logger writes Asynq's log lines to an slog.Logger. Asynq's Fatal is
// logged as an error: the server, not Asynq, decides whether to stop.
type Logger struct{ L *slog.Logger }

var _ asynq.Logger = Logger{}

func (a Logger) Debug(args ...any) { a.L.Debug(fmt.Sprint(args...)) }
func (a Logger) Info(args ...any)  { a.L.Info(fmt.Sprint(args...)) }
func (a Logger) Warn(args ...any)  { a.L.Warn(fmt.Sprint(args...)) }
func (a Logger) Error(args ...any) { a.L.Error(fmt.Sprint(args...)) }
func (a Logger) Fatal(args ...any) { a.L.Error(fmt.Sprint(args...)) }
