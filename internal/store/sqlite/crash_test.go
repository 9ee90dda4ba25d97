package sqlite_test

const crashChildEnv = "CAPSTAN_STORE_CRASH_CHILD"

func crashChild() {}
