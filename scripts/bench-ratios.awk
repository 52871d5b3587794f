# Reads `go test -bench` output and appends, for every benchmark, its
# throughput as a ratio of the baseline of its group (the sibling whose name
# starts with "baseline"), measured in the same run.
/^Benchmark/ {
  print
  name = $1; sub(/-[0-9]+$/, "", name)
  group = name; sub(/\/[^\/]*$/, "", group)
  leaf = name; sub(/^.*\//, "", leaf)
  for (i = 2; i <= NF; i++) if ($(i+1) == "ns/op") ns[name] = $i
  order[++n] = name; grp[name] = group
  if (leaf ~ /^baseline/) base[group] = name
  next
}
{ print }
END {
  if (n == 0) exit
  print ""
  printf "%-60s %14s %10s\n", "benchmark", "ns/op", "vs baseline"
  for (i = 1; i <= n; i++) {
    b = base[grp[order[i]]]
    ratio = (b != "" && ns[order[i]] > 0) ? sprintf("%.3fx", ns[b] / ns[order[i]]) : "-"
    printf "%-60s %14s %10s\n", order[i], ns[order[i]], ratio
  }
}
