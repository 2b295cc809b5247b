# Homebrew formula for wnm, in a tap's layout. `make dist` writes it with this release's url and
# sha256 into dist/homebrew-wnm/Formula/wnm.rb; publish that directory as the repository
# github.com/wnm-project/homebrew-wnm, and users run `brew install wnm-project/wnm/wnm`.
# Maintained by wnm developers <developers@wnm-project.org>.
#
# Scheduling is a `service do` block, not a post_install that runs `wnm install`: the user
# starts it when wnm is initialised (`brew services start wnm`), it runs opt_bin/wnm, a path that
# survives upgrades, and brew stops and removes it with the formula. A post_install writing a
# launchd job or a crontab line would change the user's account during `brew install`, before
# `wnm init` makes it useful, and would outlive `brew uninstall`. `wnm install` stays available for
# what the service does not cover: a system-wide launchd daemon, and the setsid process managers,
# whose nodes need the AbandonProcessGroup key it sets.
class Wnm < Formula
  desc "Node manager for Autonomi antnode fleets"
  homepage "https://github.com/wnm-project/wnm"
  url "https://github.com/wnm-project/wnm/releases/download/v0.1.0/wnm-0.1.0.tar.gz"
  sha256 "0000000000000000000000000000000000000000000000000000000000000000"
  license "GPL-3.0-only"
  head "https://github.com/wnm-project/wnm.git", branch: "main"

  # The commit the release tarball was made from; `make dist` fills it in.
  COMMIT = "unknown".freeze

  depends_on "go" => :build

  def install
    ENV["CGO_ENABLED"] = "0"
    ldflags = %W[
      -s -w
      -X main.version=#{version}
      -X main.commit=#{COMMIT}
      -X main.date=#{time.iso8601}
    ]
    system "go", "build", *std_go_args(ldflags:), "./cmd/wnm"
    # The man page is rendered from the command tree by the binary just built.
    system bin/"wnm", "dist-files", "--out", buildpath/"dist-files"
    man1.install buildpath/"dist-files/wnm.1"
  end

  def caveats
    <<~EOS
      Initialise wnm, then start its one-minute cycle:
        wnm init --rewards_address 0xYOURADDRESS
        brew services start wnm
    EOS
  end

  service do
    run [opt_bin/"wnm", "run"]
    run_type :interval
    interval 60
    environment_variables PATH: std_service_path_env
    log_path var/"log/wnm.log"
    error_log_path var/"log/wnm.log"
  end

  test do
    assert_match "wnm version #{version}", shell_output("#{bin}/wnm version")
    ENV["HOME"] = testpath
    system bin/"wnm", "init", "--rewards_address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
           "--process_manager", "setsid+user", "--node_cap", "0"
    output = shell_output("#{bin}/wnm run --dry_run 2>&1")
    assert_match "DRYRUN: would survey", output
    assert_match "msg=cycle", output
  end
end
