// The topology model lands here (see issue: L2/L3 path).
