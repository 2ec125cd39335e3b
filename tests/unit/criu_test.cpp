// The one line a CRIU failure is reported in: the first "Error (...)" of its log or stderr.
#include "criu.hpp"

#include <gtest/gtest.h>

namespace nook {
namespace {

TEST(CriuFirstError, TakesTheFirstErrorLineWithoutTheTimestamp) {
  // CRIU 3.17 on a kernel whose vDSO it does not know (criu check on this host).
  std::string stderr_text =
      "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
      "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n"
      "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing "
      "kerndat.\n";
  EXPECT_EQ(criu_first_error(stderr_text),
            "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds");
  // A log at level 4: timestamps and info lines before the error.
  std::string log =
      "(00.000011) Version: 3.17.1 (gitid 0)\n"
      "(00.000242) Running on nookvm Linux 6.1.0-28-amd64\n"
      "(00.004183) Error (criu/mount.c:1096): mnt: Mount 571 ./dev/null is not available\n"
      "(00.004190) Error (criu/mount.c:1200): mnt: later\n";
  EXPECT_EQ(criu_first_error(log),
            "Error (criu/mount.c:1096): mnt: Mount 571 ./dev/null is not available");
}

TEST(CriuFirstError, EmptyWhenThereIsNone) {
  EXPECT_EQ(criu_first_error(""), "");
  EXPECT_EQ(criu_first_error("(00.1) Dumping finished successfully\n"), "");
  // a last line without a newline is read too
  EXPECT_EQ(criu_first_error("info\nError (x.c:1): y"), "Error (x.c:1): y");
}

}  // namespace
}  // namespace nook
