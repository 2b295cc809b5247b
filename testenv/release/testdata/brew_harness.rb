# A stand-in for the parts of Homebrew's formula DSL that packaging/brew/Formula/wnm.rb uses, so
# that its install and test blocks run here, where Homebrew cannot be installed: it builds wnm
# from an unpacked source tree as `brew install` would, then runs the formula's test block in a
# scratch directory. It is no Homebrew: `brew audit` checks are not made.
#   ruby brew_harness.rb FORMULA SOURCE_DIR PREFIX
require "fileutils"
require "pathname"
require "time"
require "tmpdir"

class Pathname
  # Homebrew's Pathname#install: copy files into this directory.
  def install(*files)
    mkpath
    files.flatten.each { |f| FileUtils.cp(f.to_s, to_s) }
  end
end

# Homebrew's ENV takes a Pathname as a value (formulae write ENV["HOME"] = testpath).
class << ENV
  alias_method :string_set, :[]=
  def []=(key, value)
    string_set(key, value&.to_s)
  end
end

class Formula
  class << self
    attr_reader :url_value, :service_block, :test_block, :build_deps

    def desc(_) = nil
    def homepage(_) = nil
    def license(_) = nil
    def head(*) = nil
    def sha256(value)
      raise "sha256 #{value.inspect} is not 64 hex digits" unless value.match?(/\A\h{64}\z/)
    end

    def url(value) = @url_value = value
    def depends_on(dep) = (@build_deps ||= []) << dep
    def service(&block) = @service_block = block
    def test(&block) = @test_block = block
  end

  attr_reader :buildpath, :prefix

  def initialize(buildpath, prefix)
    @buildpath = Pathname(buildpath)
    @prefix = Pathname(prefix)
  end

  # Homebrew derives a formula's version from its url: .../wnm-0.1.0.tar.gz is 0.1.0.
  def version
    m = self.class.url_value.match(%r{/wnm-([^/]+)\.tar\.gz\z})
    raise "no version in url #{self.class.url_value}" unless m

    m[1]
  end

  def bin = prefix/"bin"
  def man1 = prefix/"share/man/man1"
  def opt_bin = bin
  def var = prefix/"var"
  def testpath = @testpath
  def time = Time.at(Integer(ENV.fetch("SOURCE_DATE_EPOCH", "0"))).utc
  def std_service_path_env = "/usr/bin:/bin"

  def std_go_args(output: bin/"wnm", ldflags: nil)
    args = ["-trimpath", "-o=#{output}"]
    args << "-ldflags=#{Array(ldflags).join(" ")}" if ldflags
    args
  end

  def system(*args)
    ok = Kernel.system(*args.map(&:to_s))
    raise "failed: #{args.join(" ")}" unless ok
  end

  def shell_output(cmd, result = 0)
    out = `#{cmd}`
    raise "#{cmd} exited #{$?.exitstatus}, want #{result}:\n#{out}" if $?.exitstatus != result

    out
  end

  def assert_match(want, text)
    ok = want.is_a?(Regexp) ? want.match?(text) : text.include?(want)
    raise "expected #{want.inspect} in:\n#{text}" unless ok
  end

  def run_test
    Dir.mktmpdir do |dir|
      @testpath = Pathname(dir)
      Dir.chdir(dir) { instance_eval(&self.class.test_block) }
    end
  end
end

formula, source, prefix = ARGV
load formula
klass = Formula.subclasses.first
raise "no formula class in #{formula}" unless klass
raise "no service block" unless klass.service_block
raise "no test block" unless klass.test_block

f = klass.new(source, prefix)
Dir.chdir(source) { f.install }
puts "installed #{f.bin/"wnm"} and #{f.man1/"wnm.1"}" if (f.man1/"wnm.1").file?
f.run_test
puts "formula test passed (version #{f.version})"
