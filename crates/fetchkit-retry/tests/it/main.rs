mod policy;
mod run;
mod writer;
