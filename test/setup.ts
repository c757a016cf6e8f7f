import '../lib/shims';
