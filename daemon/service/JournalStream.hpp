#pragma once

#include <spdlog/logger.h>

namespace recd {

// True when stderr is the journal's stream for this service: systemd sets
// JOURNAL_STREAM to "DEVICE:INODE" of the socket it connected stderr to. A
// child that inherited the variable but whose stderr was redirected does not
// match, so `recd 2>log` keeps plain lines.
bool stderrIsJournal();

// Prefixes every line with its syslog priority ("<3>" for errors, "<4>" for
// warnings, sd-daemon(3)), which the journal strips and files the line under,
// so `journalctl --user -u recd -p err` finds the errors. Without it every
// line reaches the journal at priority info.
void logWithJournalPriorities(spdlog::logger& log);

} // namespace recd
