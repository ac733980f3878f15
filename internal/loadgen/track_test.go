//go:build linux

package loadgen

import "testing"

func TestTracker(t *testing.T) {
	tests := []struct {
		name                 string
		seqs                 []uint64
		expected             int64
		unique, dup, ooo, lo int64
	}{
		{"in order", []uint64{1, 2, 3}, 3, 3, 0, 0, 0},
		{"gap", []uint64{1, 3}, 3, 2, 0, 0, 1},
		{"duplicate", []uint64{1, 2, 2, 3}, 3, 3, 1, 0, 0},
		{"swap", []uint64{1, 3, 2}, 3, 3, 0, 1, 0},
		{"late duplicate is not out of order", []uint64{1, 2, 3, 1}, 3, 3, 1, 0, 0},
		{"large sequence numbers", []uint64{1000, 64, 65, 5000}, 5000, 4, 0, 1, 4996},
		{"nothing", nil, 10, 0, 0, 0, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr tracker
			for _, s := range tt.seqs {
				tr.add(s)
			}
			if tr.unique != tt.unique || tr.dups != tt.dup || tr.ooo != tt.ooo || tr.lost(tt.expected) != tt.lo {
				t.Fatalf("unique %d dups %d ooo %d lost %d; want %d %d %d %d",
					tr.unique, tr.dups, tr.ooo, tr.lost(tt.expected), tt.unique, tt.dup, tt.ooo, tt.lo)
			}
		})
	}
}
