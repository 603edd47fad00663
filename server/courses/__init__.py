"""Courses: joining with a code; a teacher's invitation code and students."""
