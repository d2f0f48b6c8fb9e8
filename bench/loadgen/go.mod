module livegate/bench/loadgen

go 1.22
