package accounts

import (
	"context"
	"log/slog"
	"time"

	"docplat/internal/periodic"
)

// RunTokenPurge removes expired tokens every interval until ctx ends,
// logging what it removed and what failed (a failure waits for the next
// round: expired tokens cannot authenticate anyway).
func (s *Service) RunTokenPurge(ctx context.Context, every time.Duration, log *slog.Logger) {
	periodic.Run(ctx, every, func(ctx context.Context) {
		if n, err := s.PurgeExpiredTokens(ctx); err != nil {
			log.Warn("purging expired tokens", "err", err)
		} else if n > 0 {
			log.Info("expired tokens purged", "count", n)
		}
	})
}
