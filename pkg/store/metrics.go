package store

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports the connection pool's statistics to Prometheus.
func PoolCollector(pool *pgxpool.Pool) prometheus.Collector {
	return &poolCollector{pool: pool,
		total:    prometheus.NewDesc("switchboard_db_pool_connections", "Connections in the pool by state.", []string{"state"}, nil),
		max:      prometheus.NewDesc("switchboard_db_pool_max_connections", "Upper bound of the pool.", nil, nil),
		acquires: prometheus.NewDesc("switchboard_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil),
		waits:    prometheus.NewDesc("switchboard_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil),
		waitSecs: prometheus.NewDesc("switchboard_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections.", nil, nil),
	}
}

type poolCollector struct {
	pool                                  *pgxpool.Pool
	total, max, acquires, waits, waitSecs *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.max
	ch <- c.acquires
	ch <- c.waits
	ch <- c.waitSecs
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.AcquiredConns()), "acquired")
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.IdleConns()), "idle")
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.ConstructingConns()), "constructing")
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.waitSecs, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
