package lock

// noFollow: os.OpenFile on Windows has no O_NOFOLLOW; handles are not
// inherited by children unless asked for.
const noFollow = 0
