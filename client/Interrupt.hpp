#pragma once
// Ctrl-C (SIGINT) and SIGTERM for the commands that run until something happens
// (`recctl monitor`, `recctl start -`). The handler only sets a flag; the
// command's loop looks at it, so it can leave cleanly: unwatch, stop the take,
// give the terminal its cursor back.

namespace recctl {

void catchInterrupts();
// Whether an interrupt came; takeInterrupt() also clears it.
bool interrupted();
bool takeInterrupt();

} // namespace recctl
