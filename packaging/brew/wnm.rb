# Homebrew formula for wnm. `brew install wnm`, then `wnm init --rewards_address 0x…` and
# `wnm install`, which writes the launchd job (StartInterval 60) that runs one cycle a minute.
class Wnm < Formula
  desc "Node manager for Autonomi antnode fleets"
  homepage "https://github.com/wnm-project/wnm"
  url "https://github.com/wnm-project/wnm/archive/refs/tags/v0.1.0.tar.gz"
  license "GPL-3.0-only"
  head "https://github.com/wnm-project/wnm.git", branch: "main"

  depends_on "go" => :build

  def install
    ENV["CGO_ENABLED"] = "0"
    system "go", "build", *std_go_args(ldflags: "-s -w -X main.version=#{version}"), "./cmd/wnm"
  end

  def caveats
    <<~EOS
      Initialise wnm, then let it schedule itself:
        wnm init --rewards_address 0xYOURADDRESS
        wnm install
    EOS
  end

  test do
    assert_match "wnm version", shell_output("#{bin}/wnm version")
  end
end
