package main

import (
	"context"
	"fmt"
	"log/slog"
)

// redisLogger sends go-redis's own messages (reconnects, dial failures) to
// slog, so that they reach the JSON log instead of bare stderr.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}
