// The recovery mark must be on the disk before a take writes audio, or a power
// cut loses the knowledge that a file needs repair. What reaches the disk cannot
// be seen from inside; the calls that put it there can: strace watches the real
// RecoveryMarker::set, in this test program run again under it.

#include "daemon/service/RecoveryMarker.hpp"
#include "tests/support/Process.hpp"
#include "tests/support/TempDir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <unistd.h>

using namespace recd;
using namespace recd::test;

namespace {

// Where the probe below writes its mark: given by the test that watches it, or
// a directory of its own when the suite runs it as a test in itself.
std::filesystem::path probeDir(const TempDir& own)
{
    const char* given = std::getenv("RECD_MARKER_PROBE_DIR");
    return given && *given ? std::filesystem::path(given) : own.path();
}

} // namespace

TEST(RecoveryMarker, SetNamesTheRecordingAndClearForgetsIt)
{
    TempDir own;
    RecoveryMarker marker(probeDir(own) / "state" / "recording.json");
    EXPECT_TRUE(marker.pending().empty());
    marker.set({"/home/u/Recordings/take.wav"});
    EXPECT_EQ(marker.pending(), std::vector<std::filesystem::path>{"/home/u/Recordings/take.wav"});
    if (!std::getenv("RECD_MARKER_PROBE_DIR")) {
        marker.clear();
        EXPECT_TRUE(marker.pending().empty());
    }
}

// A take of one file per input marks every file, in order.
TEST(RecoveryMarker, EveryFileOfATakeIsNamed)
{
    TempDir own;
    RecoveryMarker marker(own / "recording.json");
    const std::vector<std::filesystem::path> files{"/r/meeting-in1.wav", "/r/meeting-in2.wav"};
    marker.set(files);
    EXPECT_EQ(marker.pending(), files);
}

// The mark a recd of before several files left: only "path".
TEST(RecoveryMarker, AMarkNamingOnePathIsRead)
{
    TempDir own;
    std::ofstream(own / "recording.json") << R"({"path": "/r/take.wav", "pid": 12})";
    EXPECT_EQ(RecoveryMarker(own / "recording.json").pending(), std::vector<std::filesystem::path>{"/r/take.wav"});
}

TEST(RecoveryMarker, TheMarkIsSyncedBeforeItIsRenamedInAndTheDirectoryAfter)
{
    TempDir dir;
    const auto log = dir / "strace.log";
    const auto r = run({"strace", "-f", "-qq", "-o", log.string(), "-e",
                        "trace=openat,fsync,fdatasync,rename,renameat,renameat2",
                        std::filesystem::read_symlink("/proc/self/exe").string(),
                        "--gtest_filter=RecoveryMarker.SetNamesTheRecordingAndClearForgetsIt"},
                       {{"RECD_MARKER_PROBE_DIR", dir.path().string()}});
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    const std::string calls = text.str();
    // The calls on the mark's files, in order, with the descriptors they used.
    const std::string state = (dir / "state").string();
    const std::regex openTmp(R"(openat\(AT_FDCWD, ")" + state + R"(/recording\.json\.tmp", [^)]*\) = (\d+))");
    const std::regex openDir(R"(openat\(AT_FDCWD, ")" + state + R"(", O_RDONLY\|O_CLOEXEC\|O_DIRECTORY[^)]*\) = (\d+))");
    const std::regex renamed(R"(rename(at2?)?\([^)]*recording\.json\.tmp", [^)]*recording\.json"[^)]*\) = 0)");
    std::smatch tmp, dirFd, ren;
    ASSERT_TRUE(std::regex_search(calls, tmp, openTmp)) << calls;
    ASSERT_TRUE(std::regex_search(calls, ren, renamed)) << calls;
    ASSERT_TRUE(std::regex_search(calls, dirFd, openDir)) << calls;
    const auto fileSync = calls.find("fsync(" + tmp[1].str() + ")", tmp.position(0));
    const auto dirSync = calls.find("fsync(" + dirFd[1].str() + ")", dirFd.position(0));
    ASSERT_NE(fileSync, std::string::npos) << "the mark's file is never synced:\n" << calls;
    ASSERT_NE(dirSync, std::string::npos) << "the directory is never synced:\n" << calls;
    EXPECT_LT(fileSync, static_cast<std::size_t>(ren.position(0))) << calls;
    EXPECT_LT(static_cast<std::size_t>(ren.position(0)), dirSync) << calls;
}
