// Real image fixtures, shared by every package's tests.
export * from "@berth/fixtures";
