package store

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/recmesh/recmesh/pkg/domain"
)

// DefaultMaxExposureRows bounds the memory exposure log; the oldest rows
// are dropped beyond it (the embedded mode is not a system of record).
const DefaultMaxExposureRows = 1 << 20

type exposureRow struct {
	requestID string
	userID    string
	itemID    int64
	tsMillis  int64
	// assignments maps a layer to its (experiment, variant).
	assignments map[string][2]string
}

type feedbackEvent struct {
	userID, requestID, typ string
	itemID, ts             int64
}

// AppendExposures implements ExposureLog.
func (m *Memory) AppendExposures(_ context.Context, replies []domain.ShownReply) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range replies {
		r := &replies[i]
		as := assignmentMap(r)
		u := m.user(r.UserID)
		for _, it := range r.Items {
			m.exposures = append(m.exposures, exposureRow{requestID: r.RequestID, userID: r.UserID, itemID: it.ItemID,
				tsMillis: r.TSMillis, assignments: as})
			u.exposures = append(u.exposures, domain.Exposure{ItemID: it.ItemID, TSMillis: r.TSMillis})
		}
		if n := len(u.exposures); n > MaxUserExposures {
			u.exposures = slices.Delete(u.exposures, 0, n-MaxUserExposures)
		}
	}
	if max := m.maxExposureRows(); len(m.exposures) > max {
		m.exposures = slices.Delete(m.exposures, 0, len(m.exposures)-max)
	}
	return nil
}

func (m *Memory) maxExposureRows() int {
	if m.MaxExposureRows > 0 {
		return m.MaxExposureRows
	}
	return DefaultMaxExposureRows
}

func assignmentMap(r *domain.ShownReply) map[string][2]string {
	as := make(map[string][2]string, len(r.Assignments))
	for _, a := range r.Assignments {
		as[a.Layer] = [2]string{a.Experiment, a.Variant}
	}
	return as
}

// ExposureStats implements ExposureLog.
func (m *Memory) ExposureStats(_ context.Context, q domain.ExposureQuery, a Attribution) ([]domain.ArmStats, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	// The rows of the experiment's arms, indexed for attribution.
	type key struct {
		a string
		b int64
	}
	var rows []int
	arms := map[int]string{}
	byRequest := map[key]int{}
	byUserItem := map[key][]int{} // in time order
	for i := range m.exposures {
		r := &m.exposures[i]
		if r.tsMillis < q.SinceMillis {
			continue
		}
		arm := armOf(r.assignments, q)
		if arm == "" {
			continue
		}
		rows = append(rows, i)
		arms[i] = arm
		if r.requestID != "" {
			byRequest[key{r.requestID, r.itemID}] = i
		}
		byUserItem[key{r.userID, r.itemID}] = append(byUserItem[key{r.userID, r.itemID}], i)
	}
	for _, idx := range byUserItem {
		sort.SliceStable(idx, func(x, y int) bool { return m.exposures[idx[x]].tsMillis < m.exposures[idx[y]].tsMillis })
	}
	clicked, liked := map[int]bool{}, map[int]bool{}
	window := a.Window.Milliseconds()
	for _, f := range m.feedback {
		target := -1
		if i, ok := byRequest[key{f.requestID, f.itemID}]; ok && f.requestID != "" && m.exposures[i].userID == f.userID {
			target = i
		} else {
			at := f.ts*1000 + 999 // events carry seconds: any exposure within that second precedes it
			idx := byUserItem[key{f.userID, f.itemID}]
			for j := len(idx) - 1; j >= 0; j-- {
				ts := m.exposures[idx[j]].tsMillis
				if ts <= at {
					if at-999-ts <= window {
						target = idx[j]
					}
					break
				}
			}
		}
		if target < 0 {
			continue
		}
		switch f.typ {
		case "click":
			clicked[target] = true
		case "like":
			liked[target] = true
		}
	}
	type userArm struct{ user, arm string }
	per := map[userArm]*[3]float64{}
	var order []userArm
	for _, i := range rows {
		k := userArm{m.exposures[i].userID, arms[i]}
		c := per[k]
		if c == nil {
			c = &[3]float64{}
			per[k] = c
			order = append(order, k)
		}
		c[0]++
		if clicked[i] {
			c[1]++
		}
		if liked[i] {
			c[2]++
		}
	}
	byArm := map[string]*domain.ArmStats{}
	for _, k := range order {
		s := byArm[k.arm]
		if s == nil {
			s = &domain.ArmStats{Arm: k.arm}
			byArm[k.arm] = s
		}
		c := per[k]
		s.AddUser(c[0], c[1], c[2])
	}
	out := make([]domain.ArmStats, 0, len(byArm))
	for _, s := range byArm {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(x, y domain.ArmStats) int { return strings.Compare(x.Arm, y.Arm) })
	return out, nil
}
