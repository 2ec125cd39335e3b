// nook: the command line. Parses runc's global flags and dispatches to one verb.
#include <malloc.h>
#include <unistd.h>

#include "../fast/exe.hpp"
#include "cli.hpp"
#include "error.hpp"

int main(int argc, char** argv) {
  using namespace nook;
  using namespace nook::cli;
  // No fastbins: freed small blocks (the config's JSON tree) coalesce at once and are reused
  // in place, so the heap spans fewer pages, and a large allocation in the container process
  // does not consolidate fastbins scattered over pages it shares copy-on-write with nook.
  // Each page first touched costs a fault (~14 us on this project's VM): 10 fewer faults per
  // run, and half the faults of each extra mount (docs/performance.md).
  mallopt(M_MXFAST, 0);
  // Nor is the heap ever given back: a shrinking brk unmaps present pages, a TLB flush
  // (~0.05 ms on this project's VM) for memory the process is about to drop at exit anyway.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  Globals g;
  CLI::App app{"nook: an unprivileged OCI container runtime (runc-compatible command line)",
               "nook"};
  // `help` and `help VERB` are `--help` and `VERB --help`, as in runc; a word in the verb's
  // place that is no verb is named as such (CLI11 would call it an unexpected argument).
  std::string verb = find_verb(argc, argv);
  std::vector<char*> help_argv;
  if (verb == "help") {
    int at = 1;
    while (at < argc && std::string_view(argv[at]) != "help") at++;
    help_argv.push_back(argv[0]);
    if (at + 1 < argc) help_argv.push_back(argv[at + 1]);
    help_argv.push_back(const_cast<char*>("--help"));
    help_argv.push_back(nullptr);
    argc = static_cast<int>(help_argv.size()) - 1;
    argv = help_argv.data();
    verb = find_verb(argc, argv);
  }
  if (!verb.empty() && !is_verb(verb)) {
    std::string m = "nook: unknown command \"" + verb + "\" (nook --help lists them)\n";
    (void)!::write(2, m.data(), m.size());
    return 1;
  }
  auto actions = build_app(app, g, verb);
  std::vector<std::string> args = normalise(app, argc, argv);
  try {
    app.parse(args);
    g.log.json = g.log_format == "json";
    log::init(g.log);
    // As runc: a --log that cannot be opened (created, appended to) fails the command.
    if (!g.log.file.empty() && log::open_now() < 0) throw_sys("open", "--log " + g.log.file);
    auto chosen = app.get_subcommands();
    if (!chosen.empty() && nook_verb_enters_container(chosen[0]->get_name().c_str())) {
      // Usually done from the ELF entry point already; this checks, and acts if it was not.
      const char* step = "";
      if (long r = nook_exe_protect(argv, environ, &step, false); r < 0)
        throw Error(sys_message(step, "", static_cast<int>(-r)) +
                    ": cannot run nook from a copy of its binary that containers cannot write");
    }
    for (auto* sub : app.get_subcommands()) actions.at(sub->get_name())();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    g.log.json = g.log_format == "json";
    log::init(g.log);
    log::error(e.what());
    return 1;
  } catch (const ExecError& e) {
    log::error(e.what());
    return 127;
  } catch (const Error& e) {
    log::error(e.what());
    return 1;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
  return g.exit_code;
}
