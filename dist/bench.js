import './bench/index.js';
